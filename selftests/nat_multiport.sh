#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One mapping, many sessions to one remote host: a UDP socket on client1
# (one internal port, so one external port) talks to 20 ports of the
# server; every port's answer must come back, and each is a session of
# its own on the same external endpoint.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd python3 jq
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

PORTS=20
setup_nat_topology || skip_test "cannot build the topology"
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 || { fail "network add"; exit $ret; }

# The server echoes on ports 9000-9019.
ip netns exec "$SERVER" python3 - "$PORTS" <<'PY' &
import select, socket, sys
socks = []
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("203.0.113.2", 9000 + i))
    socks.append(s)
while True:
    for s in select.select(socks, [], [], 60)[0]:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)
PY
pids+=($!)
busywait 10000 sh -c "ip netns exec $SERVER ss -lun | grep -q ':$((9000 + PORTS - 1)) '" ||
	{ fail "server did not start"; exit $ret; }

got=$(ip netns exec "$CLIENT1" python3 - "$PORTS" <<'PY'
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 41000))
s.settimeout(0.5)
answered = set()
for attempt in range(5):
    for i in range(n):
        if 9000 + i not in answered:
            s.sendto(b"port %d" % (9000 + i), ("203.0.113.2", 9000 + i))
    deadline = time.time() + 3
    while time.time() < deadline and len(answered) < n:
        try:
            data, peer = s.recvfrom(2048)
            answered.add(peer[1])
        except socket.timeout:
            pass
    if len(answered) == n:
        break
print(len(answered))
PY
)
check_eq "every port of the remote host answered" "$PORTS" "$got"

sessions=$(natctl -n "$ROUTER" -j session show proto udp)
check_eq "one session per remote port" "$PORTS" \
	"$(jq '[.[] | select(.internal == "198.18.0.2:41000")] | length' <<<"$sessions")"
check_eq "all on one external endpoint" "1" \
	"$(jq '[.[] | select(.internal == "198.18.0.2:41000") | .external] | unique | length' <<<"$sessions")"
check_eq "nothing was filtered" "0" "$(counter "$ROUTER" drop_filtered)"

exit $ret
