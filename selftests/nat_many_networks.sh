#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Many networks, external addresses and 1:1 mappings in one namespace
# (issue 13 item 10: the lookups every packet makes are hash tables, one
# probe per distinct prefix length).
#
#   client1 198.18.0.2 (net1 198.18.0.0/30, external 203.0.113.1)
#   client2 198.18.0.6 (net2 198.18.0.4/30, external 203.0.113.5, and a
#                       1:1 mapping 203.0.113.60 -> 198.18.0.6)
#   400 more networks x1..x400 in 198.19.0.0/16, prefixes /26, /28 and /30,
#   on 203.0.113.1, and 1:1 mappings 203.0.113.100-149 to hosts of x1..x50
#
# All applied from one file; client1's and client2's traffic must still
# leave with their own external addresses, and the server reach client2
# through its 1:1 address.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

ip -n "$R" addr add 203.0.113.5/24 dev ext0
ip -n "$R" addr add 203.0.113.60/24 dev ext0

{
	for i in $(seq 1 400); do
		b=$((i - 1))
		len=$((26 + 2 * (i % 3)))
		echo "network add x$i internal 198.19.$((b / 4)).$(((b % 4) * 64))/$len external 203.0.113.1"
	done
	echo "network add net1 internal 198.18.0.0/30 external 203.0.113.1"
	echo "network add net2 internal 198.18.0.4/30 external 203.0.113.5"
	for j in $(seq 0 49); do
		echo "map add x$((j + 1)) ip 203.0.113.$((100 + j)) to 198.19.$((j / 4)).$(((j % 4) * 64 + 1))"
	done
	echo "map add net2 ip 203.0.113.60 to 198.18.0.6"
} >"$LOG/conf"
check "apply 402 networks and 51 1:1 mappings from one file" \
	natctl -n "$R" -f "$LOG/conf"
check_eq "402 networks" 402 "$(natctl -n "$R" -j network show | jq length)"

udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server"
check_match "client1 leaves as 203.0.113.1 (net1)" '^203\.0\.113\.1:' \
	"$(udp_client "$CLIENT1" -b 0.0.0.0:40001 203.0.113.2:9000)"
check_match "client2 leaves as 203.0.113.60 (its 1:1 mapping)" \
	'^203\.0\.113\.60:40002$' \
	"$(udp_client "$CLIENT2" -b 0.0.0.0:40002 203.0.113.2:9000)"
udp_server "$CLIENT2" 198.18.0.6 7000 peer "$LOG/client2"
check_eq "the server reaches client2 through 203.0.113.60" \
	"203.0.113.2:41000" \
	"$(udp_client "$SERVER" -b 203.0.113.2:41000 203.0.113.60:7000)"
check_eq "translated: net1 out 1 in 1, net2 out 2 in 2" "1 1 2 2" \
	"$(counter "$R" translated_out net1) $(counter "$R" translated_in net1) $(counter "$R" translated_out net2) $(counter "$R" translated_in net2)"
check_eq "no other network translated anything" 0 \
	"$(natctl -n "$R" -j stats | jq '[.networks | to_entries[] |
		select(.key | startswith("x")) | .value.translated_out +
		.value.translated_in] | add')"

exit $ret
