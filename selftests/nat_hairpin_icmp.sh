#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP errors about hairpinned and looped-back flows (issue 13 item 5,
# RFC 5508 REQ-7).
#
#   client1 198.18.0.2 --+
#                        +-- router (net0), map udp 5353 -> client2:5353,
#   client2 198.18.0.6 --+   where nothing listens
#
# client1 sends to 203.0.113.1:5353 (hairpinned to client2), client2's
# stack answers "port unreachable".  The error must reach client1 as if it
# came from outside: from 203.0.113.1, about client1's datagram to
# 203.0.113.1:5353, its checksum right; client1's socket sees the refusal.
# The router's own datagram to 203.0.113.1:5353 (host loopback) gets its
# refusal too.  And with TTL 1, the router's own time exceeded about
# client1's hairpinned datagram reaches client1 about what it sent (the
# router sends it before FORWARD translates the source).  Counted in
# icmp_errors_translated.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER

check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0
check "map udp 5353 to client2 (nothing listens)" \
	natctl -n "$R" map add net0 udp 5353 to 198.18.0.6:5353

# icmp_error NS SPORT TTL: send a datagram from 198.18.0.2:SPORT to
# 203.0.113.1:5353 with TTL, print the first ICMP error that comes back.
icmp_error() {
	ip netns exec "$1" python3 -c '
import socket, struct, sys
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
raw.settimeout(5)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(sys.argv[2]))
u.bind(("198.18.0.2", int(sys.argv[1])))
u.sendto(b"hairpin", ("203.0.113.1", 5353))

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

while True:
    try:
        p, a = raw.recvfrom(2048)
    except socket.timeout:
        print("nothing")
        sys.exit(0)
    hl = (p[0] & 15) * 4
    if p[hl] not in (3, 11):
        continue
    inner = p[hl + 8:]
    ihl = (inner[0] & 15) * 4
    sp, dp = struct.unpack("!HH", inner[ihl:ihl + 4])
    print("type %d code %d from %s to %s about %s:%d -> %s:%d csum %s" % (
        p[hl], p[hl + 1], a[0], socket.inet_ntoa(p[16:20]),
        socket.inet_ntoa(inner[12:16]), sp, socket.inet_ntoa(inner[16:20]),
        dp, "ok" if csum(p[hl:]) == 0 else "bad"))
    sys.exit(0)' "$2" "$3"
}

e0=$(counter "$R" icmp_errors_translated)
out=$(icmp_error "$CLIENT1" 41000 64)
log "client1 got: $out"
check_eq "client1 gets the port unreachable, translated both ways" \
	"type 3 code 3 from 203.0.113.1 to 198.18.0.2 about 198.18.0.2:41000 -> 203.0.113.1:5353 csum ok" \
	"$out"
rc=0
udp_client "$CLIENT1" -t 3 203.0.113.1:5353 >/dev/null || rc=$?
check_eq "client1's socket sees the refusal" 3 "$rc"
check_eq "icmp_errors_translated counted both" $((e0 + 2)) \
	"$(counter "$R" icmp_errors_translated)"

rc=0
udp_client "$R" -t 3 203.0.113.1:5353 >/dev/null || rc=$?
check_eq "the router's own datagram (host loopback) sees the refusal" 3 "$rc"
check_eq "icmp_errors_translated counted it" $((e0 + 3)) \
	"$(counter "$R" icmp_errors_translated)"

# The router's own error about a hairpinned datagram it forwards: with
# TTL 1, time exceeded from ip_forward(), before FORWARD translates the
# source.  client1 must see it about what it sent, to 203.0.113.1:5353.
out=$(icmp_error "$CLIENT1" 41001 1)
log "client1 got: $out"
check_eq "client1 gets the router's time exceeded about its datagram to 203.0.113.1:5353" \
	"type 11 code 0 from 198.18.0.1 to 198.18.0.2 about 198.18.0.2:41001 -> 203.0.113.1:5353 csum ok" \
	"$out"
check_eq "icmp_errors_translated counted it" $((e0 + 4)) \
	"$(counter "$R" icmp_errors_translated)"

exit $ret
