#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-namespace state: two complete topologies, A and B, each
#
#   client1 198.18.0.2 --- router (net0, ports 20000-20000) --- server
#   client2 198.18.0.6 ---/  ext0 203.0.113.1                 203.0.113.2
#
# with identical addresses and identical configuration (same network name,
# same prefix, a single external port; ICMP sessions that outlast the test).  Traffic runs in both at the same
# time and works in both: each router hands out its one port 20000 (the
# port maps of the namespaces are separate), each lists only its own
# sessions and counts only its own packets; deleting A's network leaves B
# working.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq ping python3 ss
require_module
trap nat_cleanup EXIT

nat_tmpdir
LOG=$NAT_TMP

for t in A B; do
	setup_nat_topology || skip_test "cannot set up the topology"
	for v in CLIENT1 CLIENT2 ROUTER SERVER; do
		eval "${t}_$v=\$$v"
	done
	udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server$t"
	check "$t: network add" natctl -n "$ROUTER" network add net0 \
		internal 198.18.0.0/24 external dev ext0 ports 20000-20000 \
		timeout icmp 600
done

# A: one UDP flow (client1) and one ping (client2).  B: one UDP flow
# (client2) and pings from both clients.  All at the same time.
declare -A pid rc
udp_client "$A_CLIENT1" -b 0.0.0.0:41000 -t 10 203.0.113.2:9000 \
	>"$LOG/udpA" &
pid[udpA]=$!
ip netns exec "$A_CLIENT2" ping -c 3 -i 0.3 -W 5 203.0.113.2 \
	>/dev/null 2>&1 &
pid[pingA2]=$!
udp_client "$B_CLIENT2" -b 0.0.0.0:42000 -t 10 203.0.113.2:9000 \
	>"$LOG/udpB" &
pid[udpB]=$!
ip netns exec "$B_CLIENT1" ping -c 3 -i 0.3 -W 5 203.0.113.2 \
	>/dev/null 2>&1 &
pid[pingB1]=$!
ip netns exec "$B_CLIENT2" ping -c 3 -i 0.3 -W 5 203.0.113.2 \
	>/dev/null 2>&1 &
pid[pingB2]=$!
for p in "${!pid[@]}"; do
	wait "${pid[$p]}"
	rc[$p]=$?
done

check_eq "A: client1's UDP answered, from port 20000" \
	"0 203.0.113.1:20000" "${rc[udpA]} $(cat "$LOG/udpA")"
check_eq "B: client2's UDP answered, from port 20000" \
	"0 203.0.113.1:20000" "${rc[udpB]} $(cat "$LOG/udpB")"
check_eq "A: client2's ping answered" 0 "${rc[pingA2]}"
check_eq "B: both pings answered" "0 0" "${rc[pingB1]} ${rc[pingB2]}"
for t in A B; do
	check_eq "$t's server got one datagram, from 203.0.113.1:20000" \
		203.0.113.1:20000 "$(awk '{ print $1 }' "$LOG/server$t" |
		paste -sd ' ')"
done

# own_sessions NS: "PROTO INTERNAL" of each session (ICMP: the address).
own_sessions() {
	nat_sessions "$1" | jq -r '[.[] | "\(.proto) \(if .proto == "icmp"
		then (.internal | split(":")[0]) else .internal end)"] |
		sort | join("|")'
}
check_eq "A lists its own sessions" \
	"icmp 198.18.0.6|udp 198.18.0.2:41000" "$(own_sessions "$A_ROUTER")"
check_eq "B lists its own sessions" \
	"icmp 198.18.0.2|icmp 198.18.0.6|udp 198.18.0.6:42000" \
	"$(own_sessions "$B_ROUTER")"
check_eq "A counts its own sessions" "2 2" \
	"$(counter "$A_ROUTER" sessions_added net0) $(counter "$A_ROUTER" sessions_active)"
check_eq "B counts its own sessions" "3 3" \
	"$(counter "$B_ROUTER" sessions_added net0) $(counter "$B_ROUTER" sessions_active)"
# A: 1 datagram + 3 echo requests out; B: 1 + 6.
check_eq "A counts its own packets" "4 4" \
	"$(counter "$A_ROUTER" translated_out net0) $(counter "$A_ROUTER" translated_in net0)"
check_eq "B counts its own packets" "7 7" \
	"$(counter "$B_ROUTER" translated_out net0) $(counter "$B_ROUTER" translated_in net0)"
check_eq "the initial namespace has no network" 0 \
	"$(natctl -j network show | jq length)"

check "A: network del" natctl -n "$A_ROUTER" network del net0
check_eq "A: no sessions" 0 "$(session_count "$A_ROUTER")"
check_eq "B: sessions untouched" 3 "$(session_count "$B_ROUTER")"
check_eq "B: client2's UDP still answered, same mapping" "203.0.113.1:20000" \
	"$(udp_client "$B_CLIENT2" -b 0.0.0.0:42000 203.0.113.2:9000)"
check_fail "A: client1's UDP no longer answered" \
	udp_client "$A_CLIENT1" -b 0.0.0.0:41000 -t 2 203.0.113.2:9000

exit $ret
