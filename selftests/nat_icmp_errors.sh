#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP errors about translated flows, both ways (RFC 5508 REQ-4/5,
# RFC 4787 REQ-12/13).  The server namespace routes on to a further one:
#
#   client1 198.18.0.2 -- router (net0) -- mid 203.0.113.2 -- far 198.51.100.2
#                         ext0 203.0.113.1     198.51.100.1
#
#  - traceroute (UDP, ICMP echo and TCP SYN probes) from client1 to far
#    shows every hop: mid's Time Exceeded errors, sent to 203.0.113.1, are
#    translated back to client1 with the embedded probe restored;
#  - UDP to a closed port on mid: client1's socket gets "connection
#    refused", and the ICMP error does not end the mapping;
#  - path MTU: mid's link to far has MTU 1280; `ping -M do -s 1400` and a
#    TCP upload from client1 to far get mid's Fragmentation Needed, and
#    the client learns the path MTU 1280;
#  - an error going out: the server sends to client1's mapping, client1
#    answers Port Unreachable, which leaves with 203.0.113.1 as source and
#    the embedded datagram's destination translated: the server's socket
#    gets "connection refused".
# icmp_errors_translated counts them; nft on mid counts packets from
# 198.18.0.0/15 (untranslated): none.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ping traceroute python3 ss nft
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
MID=$SERVER
setup_ns FAR || skip_test "cannot create a namespace"
ip link add eth1 netns "$MID" type veth peer name eth0 netns "$FAR" ||
	skip_test "cannot create veth"
ip -n "$MID" addr add 198.51.100.1/24 dev eth1
ip -n "$FAR" addr add 198.51.100.2/24 dev eth0
ip -n "$FAR" addr add 198.51.100.3/24 dev eth0
ip -n "$MID" link set eth1 up
ip -n "$FAR" link set eth0 up
ip -n "$FAR" route add default via 198.51.100.1
ip -n "$R" route add 198.51.100.0/24 via 203.0.113.2
ip netns exec "$MID" sysctl -qw net.ipv4.ip_forward=1
# Errors must not be rate-limited away in this test.
for ns in "$MID" "$FAR" "$CLIENT1"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
done
busywait 5000 ip netns exec "$MID" ping -c 1 -W 1 198.51.100.2 >/dev/null

nat_tmpdir
LOG=$NAT_TMP
server_watch "$MID"
tcp_peer_server "$FAR" 8080

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0
check_match "client1 reaches far through the NAT" '^203\.0\.113\.1:' \
	"$(tcp_peer "$CLIENT1" 198.51.100.2 8080)"

errors() {
	counter "$R" icmp_errors_translated net0
}

# --- traceroute ---------------------------------------------------------------

# hops OUTPUT: the address of each hop, "*" for none.
hops() {
	awk 'NR > 1 { print ($2 == "*" ? "*" : $2) }' <<<"$1" | tr '\n' ' ' |
		sed 's/ $//'
}

for method in udp icmp tcp; do
	case $method in
	udp)	opt="" ;;
	icmp)	opt="-I" ;;
	tcp)	opt="-T -p 8080" ;;
	esac
	e=$(errors)
	# shellcheck disable=SC2086
	out=$(ip netns exec "$CLIENT1" traceroute -n -q 1 -w 3 -m 5 $opt \
		198.51.100.2 2>&1)
	check_eq "traceroute ($method): router, mid, far" \
		"198.18.0.1 203.0.113.2 198.51.100.2" "$(hops "$out")"
	[ "$(hops "$out")" = "198.18.0.1 203.0.113.2 198.51.100.2" ] ||
		printf '%s\n' "$out" | sed 's/^/#   /'
	check "traceroute ($method): icmp_errors_translated grew" \
		counter_above "$R" icmp_errors_translated "$e" net0
done

# --- Port Unreachable ------------------------------------------------------------

e=$(errors)
out=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 -t 5 203.0.113.2:9999)
check_eq "UDP to a closed port: connection refused" refused "$out"
check "Port Unreachable: icmp_errors_translated grew" \
	counter_above "$R" icmp_errors_translated "$e" net0
check "the error did not end the session" has_session "$R" \
	'.proto == "udp" and .internal == "198.18.0.2:25000" and
	 .remote == "203.0.113.2:9999"'

# --- Fragmentation Needed ------------------------------------------------------

ip -n "$MID" link set eth1 mtu 1280
ip -n "$FAR" link set eth0 mtu 1280
e=$(errors)
out=$(ip netns exec "$CLIENT1" ping -M do -s 1400 -c 2 -i 0.5 -W 2 \
	198.51.100.2 2>&1)
check_match "ping -M do -s 1400: told mtu 1280" \
	'mtu ?= ?1280' "$out"
check "Frag Needed: icmp_errors_translated grew" \
	counter_above "$R" icmp_errors_translated "$e" net0
check_match "client1 learnt the path MTU" ' mtu 1280 ' \
	"$(ip -n "$CLIENT1" route get 198.51.100.2)"
check "ping -s 1200 fits" ip netns exec "$CLIENT1" \
	ping -M do -s 1200 -c 1 -W 5 198.51.100.2

# A TCP upload to far's other address (no path MTU known for it yet):
# far's MSS (1460, its MTU back to 1500 on its side) lets client1 send
# segments that do not fit mid's link: only the translated Frag Needed
# gets them through.
ip -n "$FAR" link set eth0 mtu 1500
bg_run "$FAR" socat -u TCP-LISTEN:8081,reuseaddr \
	"OPEN:$LOG/down,creat,trunc"
wait_listen "$FAR" tcp 8081
e=$(errors)
head -c 200000 /dev/urandom >"$LOG/up"
ip netns exec "$CLIENT1" timeout 60 socat -u "OPEN:$LOG/up" \
	TCP:198.51.100.3:8081
received() {
	[ "$(stat -c %s "$LOG/down")" = 200000 ]
}
check "TCP upload of 200 kB across the 1280 link arrives" \
	busywait 30000 received
check "TCP upload: the data is intact" cmp -s "$LOG/up" "$LOG/down"
check "TCP upload: icmp_errors_translated grew" \
	counter_above "$R" icmp_errors_translated "$e" net0
check_match "client1 learnt the path MTU to 198.51.100.3" ' mtu 1280 ' \
	"$(ip -n "$CLIENT1" route get 198.51.100.3)"

# --- an error going out -----------------------------------------------------------

# client1 sends from port 25001 to the server's 203.0.113.2:9001 (its
# mapping now lets 203.0.113.2 in), then nothing listens on 25001.
udp_client "$CLIENT1" -n -b 0.0.0.0:25001 -d x 203.0.113.2:9001
busywait 5000 has_session "$R" '.internal == "198.18.0.2:25001"'
ext=$(nat_sessions "$R" | jq -r '.[] | select(.internal ==
	"198.18.0.2:25001") | .external')
e=$(errors)
out=$(udp_client "$MID" -b 203.0.113.2:9001 -t 5 "$ext")
check_eq "client1's Port Unreachable reaches the server's socket" \
	refused "$out"
check "outbound error: icmp_errors_translated grew" \
	counter_above "$R" icmp_errors_translated "$e" net0

check_eq "mid never saw a packet from 198.18.0.0/15" 0 \
	"$(nft_packets "$MID" inet watch leak)"
check_eq "no drops" "0 0 0" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		[.drop_filtered, .drop_malformed, .drop_nomem] | join(" ")')"

exit $ret
