#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `external dev`: the network follows the interface's address.
#
#   client1 198.18.0.2 ---\
#                          router (net0, external dev ext0) --- server
#   client2 198.18.0.6 ---/  ext0 203.0.113.1 -> .10 -> none    203.0.113.2
#
#  1. sessions on 203.0.113.1; ext0's address becomes 203.0.113.10: the old
#     sessions are flushed (sessions_deleted counts them), network show
#     reports .10, new flows leave with .10;
#  2. ext0 loses its address (a route keeps 203.0.113.0/24 reachable):
#     network show reports none, the sessions are flushed, new flows are
#     dropped (drop_no_port) and no packet from 198.18.0.0/15 reaches the
#     server;
#  3. 203.0.113.1 comes back: flows leave with it again.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ping python3 ss nft
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

tcp_peer_server "$SERVER" 8080
udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server"
server_watch "$SERVER"

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0

# external: the network's external addresses, as JSON shows them.
external() {
	natctl -n "$R" -j network show net0 | jq -r '.[0].external | join(",")'
}
external_is() {
	[ "$(external)" = "$1" ]
}

# traffic N: UDP from both clients and a ping from client1; prints the
# addresses the server saw.
traffic() {
	udp_client "$CLIENT1" -t 2 -b "0.0.0.0:2500$1" 203.0.113.2:9000 |
		cut -d: -f1
	udp_client "$CLIENT2" -t 2 -b "0.0.0.0:2600$1" 203.0.113.2:9000 |
		cut -d: -f1
	ip netns exec "$CLIENT1" ping -c 1 -W 2 203.0.113.2 >/dev/null 2>&1 &&
		echo ping
}

check_eq "flows leave with 203.0.113.1" "203.0.113.1 203.0.113.1 ping" \
	"$(traffic 1 | paste -sd ' ')"
check_eq "3 sessions on 203.0.113.1" 3 \
	"$(nat_sessions "$R" | jq '[.[] | select(.external |
		startswith("203.0.113.1:"))] | length')"
del=$(counter "$R" sessions_deleted net0)

# --- a new address ---------------------------------------------------------

log "ext0: 203.0.113.1 -> 203.0.113.10"
ip -n "$R" addr del 203.0.113.1/24 dev ext0
ip -n "$R" addr add 203.0.113.10/24 dev ext0
check "network show follows: 203.0.113.10" busywait 10000 external_is \
	203.0.113.10
check "the old sessions are flushed" busywait 10000 no_session "$R" \
	'.external | startswith("203.0.113.1:")'
check_eq "sessions_deleted counts them" $((del + 3)) \
	"$(counter "$R" sessions_deleted net0)"
check_match "text: network show names the new address" \
	'external dev ext0 \(203\.0\.113\.10\)' "$(natctl -n "$R" network show)"
check_eq "new flows leave with 203.0.113.10" \
	"203.0.113.10 203.0.113.10 ping" "$(traffic 2 | paste -sd ' ')"
check_match "TCP too" '^203\.0\.113\.10:' \
	"$(tcp_peer "$CLIENT1" 203.0.113.2 8080)"
check_eq "every session is on 203.0.113.10" 4 \
	"$(nat_sessions "$R" | jq '[.[] | select(.external |
		startswith("203.0.113.10:"))] | length')"

# --- no address ----------------------------------------------------------------

log "ext0: no address"
del=$(counter "$R" sessions_deleted net0)
ip -n "$R" addr del 203.0.113.10/24 dev ext0
# The router can still forward to the server: only knat stands in between.
ip -n "$R" route add 203.0.113.0/24 dev ext0
check "network show follows: no address" busywait 10000 external_is ""
check_match "text: network show says so" \
	'external dev ext0 \(no address\)' "$(natctl -n "$R" network show)"
check "the sessions are flushed" busywait 10000 no_session "$R" true
check_eq "sessions_deleted counts them" $((del + 4)) \
	"$(counter "$R" sessions_deleted net0)"
leak=$(nft_packets "$SERVER" inet watch leak)
lines=$(wc -l <"$LOG/server")
nop=$(counter "$R" drop_no_port net0)
check_eq "new flows get nothing back" "" "$(traffic 3 | paste -sd ' ')"
check_eq "no session without an address" 0 "$(session_count "$R")"
check_eq "drop_no_port counts the 3 flows" $((nop + 3)) \
	"$(counter "$R" drop_no_port net0)"
check_eq "the server received nothing" "$lines" "$(wc -l <"$LOG/server")"
check_eq "no packet from 198.18.0.0/15 reached the server" "$leak" \
	"$(nft_packets "$SERVER" inet watch leak)"

# --- back -----------------------------------------------------------------------

log "ext0: 203.0.113.1 again"
ip -n "$R" route del 203.0.113.0/24 dev ext0
ip -n "$R" addr add 203.0.113.1/24 dev ext0
check "network show follows: 203.0.113.1" busywait 10000 external_is \
	203.0.113.1
check_eq "flows leave with 203.0.113.1 again" \
	"203.0.113.1 203.0.113.1 ping" "$(traffic 4 | paste -sd ' ')"
check_eq "no packet from 198.18.0.0/15 ever reached the server" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

exit $ret
