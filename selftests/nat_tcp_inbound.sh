#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP from outside (issue 13, RFC 5382 REQ-4, RFC 5961, RFC 7857):
#
#   client2 198.18.0.6 :80 (listening), :81 (answers and closes)
#        |
#   router net0 198.18.0.0/24 behind ext0 203.0.113.1,
#        |  maps tcp 8080 -> 198.18.0.6:80, tcp 8081 -> 198.18.0.6:81,
#        |  routes 192.0.2.0/24 (spoofed sources) to the server's link
#   server 203.0.113.2
#
# nat_tcp_inbound.py sends the segments a blind attacker can: a segment
# that is not a SYN makes no session (drop_tcp_no_syn); a SYN answered by
# the internal host stays embryonic (syn-recv, tcp-syn) until an ACK of the
# SYN/ACK; an ACK of anything else and an RST out of the window are
# dropped (drop_tcp_invalid) and change nothing.
#
# Then a real client reconnects through the port mapping from the same
# source port after the first connection closed: the session stays the
# mapping's (its packets counted on the mapping, `map delete` ends it).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3 socat
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
TCP_SYN=20

check "network add net0 (timeout tcp-syn $TCP_SYN)" \
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
	external dev ext0 timeout tcp-syn $TCP_SYN
check "network show: tcp-syn $TCP_SYN" test "$(natctl -n "$R" -j network show net0 |
	jq -r '.[0].timeouts.tcp_syn')" = $TCP_SYN
check "map tcp 8080 to client2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.6:80
check "map tcp 8081 to client2:81" \
	natctl -n "$R" map add net0 tcp 8081 to 198.18.0.6:81
ip -n "$R" route add 192.0.2.0/24 via 203.0.113.2

bg_run "$CLIENT2" python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.6", 80))
s.listen(128)
time.sleep(3600)'
wait_listen "$CLIENT2" tcp 80
tcp_peer_server "$CLIENT2" 81

mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
macs="$(mac "$CLIENT2" eth0),$(mac "$R" int2),$(mac "$SERVER" eth0)"
macs+=",$(mac "$R" ext0)"
# The router knows both neighbours' MACs before the first forged segment.
ip netns exec "$CLIENT2" ping -c 1 -W 2 203.0.113.2 >/dev/null 2>&1

NATCTL=$NATCTL python3 "$KSELFTEST_DIR/nat_tcp_inbound.py" "$R" "$CLIENT2" \
	"$SERVER" "$macs" $TCP_SYN || ret=$ksft_fail

# --- a reconnect through the port mapping from the same remote port ------
map_packets() {
	natctl -n "$R" -j map show net0 |
		jq -r '.[] | select(.external_port == 8081 or .external == "8081" or
			(.external | tostring | endswith(":8081"))) | .packets' | head -n 1
}
check_eq "first connection through 8081" "203.0.113.2:5555" \
	"$(tcp_peer "$SERVER" 203.0.113.1 8081 5555)"
closed() {
	has_session "$R" '.remote == "203.0.113.2:5555" and
		(.state == "closing" or .state == "closed" or .state == "fin-wait")'
}
busywait 5000 closed || fail "the first connection did not close"
p1=$(map_packets)
check_eq "reconnect from the same port" "203.0.113.2:5555" \
	"$(tcp_peer "$SERVER" 203.0.113.1 8081 5555)"
p2=$(map_packets)
log "mapping 8081: $p1 packets after the first connection, $p2 after the second"
if [ -n "$p1" ] && [ -n "$p2" ] && [ "$p2" -ge $((p1 + 3)) ]; then
	ok "the reconnection's packets are counted on the mapping"
else
	fail "the reconnection's packets are not counted on the mapping ($p1 -> $p2)"
fi
check "the session is there" has_session "$R" '.remote == "203.0.113.2:5555"'
check "map delete 8081" natctl -n "$R" map delete net0 tcp 8081
check "map delete ended the reconnected session" \
	busywait 5000 no_session "$R" '.remote == "203.0.113.2:5555"'

exit $ret
