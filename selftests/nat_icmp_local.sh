#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP errors the router itself sends about a packet it forwards inward
# after translating it: path MTU discovery toward an internal host.
#
#   client1 --- int1 (mtu 1280) router (net0) ext0 --- server
#
# client1 opens a UDP flow to the server; the server answers with a
# 1400-byte datagram with DF set.  The router cannot forward it into int1
# and answers "fragmentation needed".  The error's embedded packet must
# carry the external address and port the server knows: only then does the
# server's kernel match it to the server's socket and learn the path MTU.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat python3 jq
require_module

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	knat_cleanup
}
trap cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 || { fail "network add"; exit $ret; }
ip -n "$ROUTER" link set int1 mtu 1280
ip -n "$CLIENT1" link set eth0 mtu 1280

out=/tmp/knat-pmtu-$$.out
# The server: learn the peer, answer big with DF, report the path MTU.
ip netns exec "$SERVER" python3 - >"$out" 2>&1 <<'PY' &
import socket, time
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 9000))
s.settimeout(30)
data, peer = s.recvfrom(2048)
print("peer %s:%d" % peer, flush=True)
s.connect(peer)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
for _ in range(50):
    try:
        s.send(b"x" * 1400)
    except OSError as e:
        print("send: %s" % e.strerror, flush=True)
    mtu = s.getsockopt(socket.IPPROTO_IP, IP_MTU)
    if mtu < 1500:
        break
    time.sleep(0.2)
print("mtu %d" % mtu, flush=True)
PY
pids+=($!)
busywait 10000 sh -c "ip netns exec $SERVER ss -lun | grep -q ':9000 '" ||
	{ fail "server did not start"; exit $ret; }

before=$(counter "$ROUTER" icmp_errors_translated)
echo hello | ip netns exec "$CLIENT1" socat -u - \
	UDP:203.0.113.2:9000,sourceport=30000
busywait 20000 grep -q '^mtu ' "$out"

ext=$(natctl -n "$ROUTER" -j session show proto udp |
	jq -r '.[] | select(.internal == "198.18.0.2:30000") | .external')
check_match "the server saw the external endpoint" \
	"^peer $ext\$" "$(grep '^peer' "$out")"
check_eq "the server learnt the path MTU from the router's error" \
	"mtu 1280" "$(grep '^mtu' "$out")"
after=$(counter "$ROUTER" icmp_errors_translated)
check "the error was counted as translated" test "$after" -gt "$before"

rm -f "$out"
exit $ret
