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
#                   ct state established,related accept;
#                   iifname "int*" ip saddr 198.18.0.0/24 accept; }
#
# knat translates inbound packets before conntrack and outbound ones after
# the filter chains, so conntrack and the firewall see only internal
# addresses: the answers to the clients' TCP, UDP and ping match their
# conntrack entries and pass the `ct state established` rule (its counter
# grows).  Nothing from outside gets in: a connection from the server to
# the router's external address on a port with no mapping is not
# forwarded, and one to a client's internal address (with a route to it)
# is dropped by the policy; client1 counts what reaches it from outside.

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
	counter established { }
	counter outbound { }
	counter dropped { }
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related counter name established accept
		iifname "int*" ip saddr 198.18.0.0/24 counter name outbound accept
		counter name dropped
	}
}
NFT

tcp_peer_server "$SERVER" 8080
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

# Without the firewall the routed connection attempt does reach client1:
# the checks above could fail.
ip netns exec "$R" nft delete table inet fw
tcp_peer "$SERVER" 198.18.0.2 8080 >/dev/null
check_match "without the firewall, server -> 198.18.0.2:8080 reaches client1" \
	'^[1-9][0-9]*$' "$(nft_packets "$CLIENT1" inet watch outside)"

exit $ret
