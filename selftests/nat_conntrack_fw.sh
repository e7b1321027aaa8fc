#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# knat with conntrack and a stateful nftables firewall on the router:
#
#   client1 198.18.0.2 ---\
#                          router: knat net0 + nft inet fw --- server
#   client2 198.18.0.6 ---/        ext0 203.0.113.1            203.0.113.2
#
#   chain forward { type filter hook forward priority 0; policy drop;
#                   ct state invalid drop;
#                   ip daddr 198.18.0.2 tcp dport 8082 reject with tcp reset;
#                   ct state established,related accept;
#                   iifname "int*" ip saddr 198.18.0.0/24 accept; }
#
# knat translates inbound packets before conntrack and outbound ones after
# the filter chains, so conntrack and the firewall see only internal
# addresses: the answers to the clients' TCP, UDP and ping match their
# conntrack entries and pass the `ct state established` rule (its counter
# grows).  So do hairpinned flows (client2 to client1 through the
# router's external address: TCP, a ping to a 1:1 address, and a UDP
# port unreachable), whose destination is translated at PREROUTING and
# source at FORWARD: none of their packets is invalid to conntrack.  The
# resets the router sends for client1:8082 (through a mapping on 8083)
# come from 203.0.113.1:8083, to the server and to a hairpinned client2.
# Nothing from outside gets in: a connection from the server to the
# router's external address on a port with no mapping is not forwarded,
# and one to a client's internal address (with a route to it) is dropped
# by the policy; client1 counts what reaches it from outside.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat nft jq ping python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

ip netns exec "$R" nft -f - <<'NFT' || skip_test "cannot load the nft ruleset"
table inet fw {
	counter invalid { }
	counter rejected { }
	counter established { }
	counter outbound { }
	counter dropped { }
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state invalid counter name invalid drop
		ip daddr 198.18.0.2 tcp dport 8082 counter name rejected reject with tcp reset
		ct state established,related counter name established accept
		iifname "int*" ip saddr 198.18.0.0/24 counter name outbound accept
		counter name dropped
	}
}
NFT

tcp_peer_server "$SERVER" 8080
server_watch "$SERVER"
udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server"
tcp_peer_server "$CLIENT1" 8080
# What reaches client1 from outside its network.
ip netns exec "$CLIENT1" nft -f - <<'NFT'
table inet watch {
	counter outside { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr != 198.18.0.0/15 tcp dport 8080 counter name outside
	}
}
NFT

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0

fw() {
	nft_packets "$R" inet fw "$1"
}

for c in 1 2; do
	ns=CLIENT$c; ns=${!ns}
	check_match "client$c TCP through NAT and firewall" \
		'^203\.0\.113\.1:[0-9]+$' "$(tcp_peer "$ns" 203.0.113.2 8080)"
	check_match "client$c UDP through NAT and firewall" \
		'^203\.0\.113\.1:[0-9]+$' \
		"$(udp_client "$ns" -b "0.0.0.0:2500$c" 203.0.113.2:9000)"
	check "client$c ping through NAT and firewall" \
		ip netns exec "$ns" ping -c 2 -i 0.5 -W 5 203.0.113.2
done
est=$(fw established)
check_match "the answers matched ct state established" '^[1-9][0-9]*$' \
	"$est"
check_match "the clients' first packets matched the outbound rule" \
	'^[1-9][0-9]*$' "$(fw outbound)"
check_eq "the firewall dropped nothing" 0 "$(fw dropped)"

check_match "another TCP connection" '^203\.0\.113\.1:[0-9]+$' \
	"$(tcp_peer "$CLIENT1" 203.0.113.2 8080)"
check "its answers matched ct state established" \
	test "$(fw established)" -gt "$est"

log "from outside"
check_fail "server -> 203.0.113.1:8080 (no mapping): no connection" \
	tcp_peer "$SERVER" 203.0.113.1 8080
ip -n "$SERVER" route add 198.18.0.0/24 via 203.0.113.1
check_fail "server -> 198.18.0.2:8080 (routed): no connection" \
	tcp_peer "$SERVER" 198.18.0.2 8080
check_match "the firewall dropped it" '^[1-9][0-9]*$' "$(fw dropped)"
check_eq "nothing from outside reached client1" 0 \
	"$(nft_packets "$CLIENT1" inet watch outside)"

dropped=$(fw dropped)
log "hairpinned: client2 to client1 through the router's external address"
# The firewall drops what conntrack finds invalid, as most routers' do:
# the answers of a hairpinned flow must match its conntrack entry.
check "map tcp 8081 to client1:8080" \
	natctl -n "$R" map add net0 tcp 8081 to 198.18.0.2:8080
check "map udp 9002 to client1:9002 (closed)" \
	natctl -n "$R" map add net0 udp 9002 to 198.18.0.2:9002
est=$(fw established)
check_match "hairpin TCP client2 -> 203.0.113.1:8081 reaches client1, from 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$(tcp_peer "$CLIENT2" 203.0.113.1 8081)"
check "... its answers matched ct state established" \
	test "$(fw established)" -gt "$est"
rc=0
udp_client "$CLIENT2" -b 0.0.0.0:25099 203.0.113.1:9002 >/dev/null || rc=$?
check_eq "hairpin UDP to a closed port: client2 gets the port unreachable" \
	3 "$rc"
# A 1:1-mapped host's traffic all leaves with its 1:1 address: the port
# mappings to client1 go first.
check "map delete tcp 8081" natctl -n "$R" map delete net0 tcp 8081
check "map delete udp 9002" natctl -n "$R" map delete net0 udp 9002
check "map 203.0.113.50 to client1" \
	natctl -n "$R" map add net0 ip 203.0.113.50 to 198.18.0.2
est=$(fw established)
check "hairpin ping client2 -> 203.0.113.50 (client1)" \
	ip netns exec "$CLIENT2" ping -c 2 -i 0.5 -W 5 203.0.113.50
check "... its replies matched ct state established" \
	test "$(fw established)" -gt "$est"
check_eq "conntrack found nothing of it invalid" 0 "$(fw invalid)"
check_eq "the firewall dropped nothing of it" "$dropped" "$(fw dropped)"
check "map delete 203.0.113.50" \
	natctl -n "$R" map delete net0 ip 203.0.113.50

log "a reject rule's TCP reset, on an internal host's behalf"
# connect NS ADDR PORT: connected, refused (a reset came back) or timeout
connect() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")' "$2" "$3" "$(scaled 5)"
}
check "map tcp 8083 to client1:8082 (rejected by the firewall)" \
	natctl -n "$R" map add net0 tcp 8083 to 198.18.0.2:8082
check_eq "server -> 203.0.113.1:8083: the reset comes from there" refused \
	"$(connect "$SERVER" 203.0.113.1 8083)"
check_eq "hairpin client2 -> 203.0.113.1:8083: the reset comes from there" \
	refused "$(connect "$CLIENT2" 203.0.113.1 8083)"
check_match "the firewall rejected both" '^([2-9]|[1-9][0-9]+)$' \
	"$(fw rejected)"
check_eq "nothing reached the server with an internal source" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

# Without the firewall the routed connection attempt does reach client1:
# the checks above could fail.
ip netns exec "$R" nft delete table inet fw
tcp_peer "$SERVER" 198.18.0.2 8080 >/dev/null
check_match "without the firewall, server -> 198.18.0.2:8080 reaches client1" \
	'^[1-9][0-9]*$' "$(nft_packets "$CLIENT1" inet watch outside)"

exit $ret
