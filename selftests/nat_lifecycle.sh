#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Networks, sessions and the module coming and going under traffic.
#
#   client1 198.18.0.2 --- router (net0) --- server 203.0.113.2
#
#  1. network del with live sessions: the sessions go (session show is
#     empty, the namespace's sessions_deleted counts them, sessions_active
#     is 0; the namespace's record "counts everything": its counters do
#     not go backwards) and the traffic is no longer translated;
#  2. with UDP and ping running from client1 and live sessions, rmmod knat
#     succeeds; the packets then reach the server untranslated (nothing
#     crashes); after a reload the namespace has no network, and a new one
#     translates the traffic again;
#  3. a router namespace with live sessions and traffic is deleted while
#     the module stays loaded; then the module unloads and reloads.
# No step may leave a kernel warning (checked here in dmesg, and by the
# test VM).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq ping python3 ss nft
require_module
trap nat_cleanup EXIT

splats=$(dmesg_splats)

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP
udp_server "$SERVER" 203.0.113.2 9000 none "$LOG/server"
server_watch "$SERVER"

add_net() {
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
		external dev ext0
}

# Background traffic from client1: a ping every 0.2 s and a UDP datagram
# every 0.2 s, from 120 s' worth (killed before).
bg_run "$CLIENT1" ping -i 0.2 -c 600 203.0.113.2
bg_run "$CLIENT1" python3 -c "$KNAT_UDP_PY" client -n -c 600 -i 0.2 \
	-b 0.0.0.0:25000 -d tick 203.0.113.2:9000

nat() { nft_packets "$SERVER" inet watch nat; }
leak() { nft_packets "$SERVER" inet watch leak; }
# grows CMD...: CMD's number grows within 10 s.
above() {
	local v=$1; shift
	[ "$("$@")" -gt "$v" ]
}
grows() {
	busywait 10000 above "$("$@")" "$@"
}
sessions_are() {
	[ "$(session_count "$R")" = "$1" ]
}

# --- network del ---------------------------------------------------------

check "network add" add_net
check "translated traffic reaches the server" grows nat
check "2 sessions (UDP, ICMP)" busywait 5000 sessions_are 2
del=$(counter "$R" sessions_deleted)
tout=$(counter "$R" translated_out)
check "network del under traffic" natctl -n "$R" network del net0
check_eq "no session left" 0 "$(session_count "$R")"
check_eq "total sessions_active 0" 0 "$(counter "$R" sessions_active)"
check_eq "the namespace's sessions_deleted counts the 2 sessions" \
	$((del + 2)) "$(counter "$R" sessions_deleted)"
check "the namespace's translated_out does not go backwards ($tout)" \
	test "$(counter "$R" translated_out)" -ge "$tout"
check "without the network the traffic leaves untranslated" grows leak

# --- rmmod under traffic ---------------------------------------------------

check "network add again" add_net
check "translated again" grows nat
check "sessions again" busywait 5000 has_session "$R" '.proto == "udp"'
check "rmmod knat with live sessions and traffic" knat_unload
check_fail "module gone" knat_loaded
check "after rmmod the traffic reaches the server untranslated" grows leak
n0=$(nat)
check_fail "natctl fails without the module" natctl -n "$R" info

check "reload" knat_load
check_eq "after reload: no network" 0 \
	"$(natctl -n "$R" -j network show | jq length)"
check_eq "after reload: nothing was translated meanwhile" "$n0" "$(nat)"
check "network add after reload" add_net
check "translated again after reload" grows nat
check "sessions after reload" busywait 5000 has_session "$R" \
	'.proto == "icmp"'

# --- a namespace deleted with live sessions --------------------------------------

check "delete the router namespace with live sessions and traffic" \
	ip netns del "$R"
# Others go on: a namespace of its own gets a working network.
setup_ns OTHER
check "a new namespace works" natctl -n "$OTHER" network add net0 \
	internal 198.18.0.0/24 external 192.0.2.1
check "the client's traffic now fails" bash -c \
	"! ip netns exec '$CLIENT1' ping -c 1 -W 1 203.0.113.2 >/dev/null"
check "rmmod after the namespace went" knat_unload
check "reload" knat_load
check_eq "no kernel warning" "$splats" "$(dmesg_splats)"

exit $ret
