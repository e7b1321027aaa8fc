#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed packets through the NAT, from both sides, while a live UDP flow
# runs through it (nat_malformed.py sends them and checks each).
#
#   client1 198.18.0.2 --+
#                        +-- router (net0: 198.18.0.0/24 behind ext0)
#   client2 198.18.0.6 --+   ext0 203.0.113.1 -- server 203.0.113.2-.4
#
# Mappings: udp 5353 and tcp 8080 on 203.0.113.1 to client2 (:5353, :80).
# Injected from the clients' and the server's eth0 on packet sockets:
# truncated IPv4, TCP, UDP and ICMP headers, bad IHL and total length, a
# bad header checksum, IP options, zero and maximal ports, tiny,
# out-of-order, overlapping and incomplete fragments, ICMP errors with
# truncated, bogus or nested embedded packets and about sessions that do
# not exist, TCP with each of the 256 flag combinations both ways, other IP
# protocols and ICMP types both ways, internal sources from outside.  Each
# is dropped (and counted in drop_malformed, drop_filtered, drop_tcp_no_syn,
# drop_tcp_invalid, drop_untranslatable or drop_spoofed, or dropped by the
# IP stack before knat), passed or translated as hooks.c and the README say;
# what is translated has right checksums.  Meanwhile client1's UDP flow to
# the server's echo port (10 datagrams a second) keeps its session and
# gets its echoes.  The VM fails the run on any kernel splat.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

# rp_filter off: knat's own reverse-path check must stop internal sources
# from outside.
ip netns exec "$R" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.ext0.rp_filter=0
check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0
check "map udp 5353" natctl -n "$R" map add net0 udp 5353 to 198.18.0.6:5353
check "map tcp 8080" natctl -n "$R" map add net0 tcp 8080 to 198.18.0.6:80

# The live flow: client1 198.18.0.2:4000 -> 203.0.113.2:7000, echoed.
udp_server "$SERVER" 203.0.113.2 7000 echo "$LOG/server"
read -r -d '' LIVE_PY <<'PYEOF'
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 4000))
s.settimeout(0.1)
sent = got = 0
last = time.time()
while True:
	s.sendto(b"live %d" % sent, ("203.0.113.2", 7000))
	sent += 1
	end = time.time() + 0.1
	while time.time() < end:
		try:
			data, peer = s.recvfrom(2048)
		except socket.timeout:
			break
		except OSError:
			continue
		if peer == ("203.0.113.2", 7000) and data.startswith(b"live "):
			got += 1
	if time.time() - last > 0.5:
		with open(sys.argv[1] + ".tmp", "w") as f:
			f.write("%d %d\n" % (sent, got))
		os.rename(sys.argv[1] + ".tmp", sys.argv[1])
		last = time.time()
PYEOF
bg_run "$CLIENT1" python3 -c "$LIVE_PY" "$LOG/live"

live_session() {
	natctl -n "$R" -j session show proto udp |
		jq -r '.[] | select(.internal == "198.18.0.2:4000") | .external'
}
has_live() { [ -n "$(live_session)" ]; }
busywait 10000 has_live ||
	skip_test "the live flow did not start"
ext=$(live_session)
port=${ext##*:}
log "live flow: 198.18.0.2:4000 -> $ext -> 203.0.113.2:7000"
busywait 5000 test -s "$LOG/live"
read -r sent0 got0 <"$LOG/live"

mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
macs="$(mac "$CLIENT1" eth0),$(mac "$R" int1),$(mac "$CLIENT2" eth0)"
macs+=",$(mac "$R" int2),$(mac "$SERVER" eth0),$(mac "$R" ext0)"
# The hosts answer what they get (RSTs, unreachables): let them; but have
# the router and servers know each other's MACs already.
ip netns exec "$CLIENT2" ping -c 1 -W 2 203.0.113.3 >/dev/null 2>&1

NATCTL=$NATCTL python3 "$KSELFTEST_DIR/nat_malformed.py" "$R" "$CLIENT1" \
	"$CLIENT2" "$SERVER" "$macs" "$port"
rc=$?
[ "$rc" -eq 0 ] || ret=$ksft_fail

log "the live flow, after"
sleep 2
read -r sent1 got1 <"$LOG/live"
sent=$((sent1 - sent0)) got=$((got1 - got0))
log "live flow during the injection: $sent sent, $got echoed"
if [ "$sent" -gt 20 ] && [ $((got * 100)) -ge $((sent * 90)) ]; then
	ok "the live flow carried on ($got of $sent echoed)"
else
	fail "the live flow suffered: $got of $sent echoed"
fi
check_eq "the live flow kept its session" "$ext" "$(live_session)"
read -r _ got2 <"$LOG/live"
more_echoes() { [ "$(cut -d' ' -f2 "$LOG/live")" -gt "$got2" ]; }
busywait 5000 more_echoes &&
	ok "the live flow still gets echoes" ||
	fail "the live flow gets no more echoes"

exit $ret
