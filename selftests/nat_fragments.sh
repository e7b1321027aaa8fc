#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fragmented datagrams through the NAT, both ways (RFC 4787 REQ-14).
#
#   client1 198.18.0.2 --mtu 1500-- router (net0) --mtu 1280-- server
#                                   ext0 203.0.113.1           203.0.113.2
#
# client1 sends UDP datagrams of 3000 and 20000 bytes (fragments of 1500)
# to a UDP echo server; the router reassembles them, translates, and
# fragments again for the 1280 link; the server echoes them (fragments of
# 1280) and the router does the same the other way.  client1 must get
# every byte back, the server must have seen them from 203.0.113.1, a
# fragmented ping must be answered, and the counters must show
# translation and no drop.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq ping python3 ss nft
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

ip -n "$R" link set ext0 mtu 1280
ip -n "$SERVER" link set eth0 mtu 1280
udp_server "$SERVER" 203.0.113.2 9000 echo "$LOG/server"
# Count fragments arriving at the server: the datagrams were cut again.
ip netns exec "$SERVER" nft -f - <<'NFT'
table ip fragwatch {
	counter frags { }
	counter leak { }
	chain pre {
		type filter hook prerouting priority -500; policy accept;
		ip saddr 203.0.113.1 ip frag-off & 0x3fff != 0 counter name frags
		ip saddr 198.18.0.0/15 counter name leak
	}
}
NFT

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0

for size in 3000 20000; do
	out=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 -s "$size" -t 10 \
		203.0.113.2:9000)
	check_eq "UDP $size bytes: echoed back whole" "len=$size same=1" "$out"
done
check_eq "the server got both, whole, from 203.0.113.1:25000" \
	"203.0.113.1:25000 3000|203.0.113.1:25000 20000" \
	"$(awk '{ print $1, $2 }' "$LOG/server" | paste -sd '|')"
check_match "they reached the server in fragments" '^[1-9][0-9]*$' \
	"$(nft_packets "$SERVER" ip fragwatch frags)"

check "ping -s 3000 (fragmented both ways)" \
	ip netns exec "$CLIENT1" ping -c 1 -W 5 -s 3000 203.0.113.2

check_eq "UDP session" 1 "$(nat_sessions "$R" | jq '[.[] | select(.proto ==
	"udp" and .internal == "198.18.0.2:25000" and .external ==
	"203.0.113.1:25000" and .remote == "203.0.113.2:9000")] | length')"
check "ICMP session" has_session "$R" '.proto == "icmp"'
stats=$(natctl -n "$R" -j stats network net0)
check_eq "translated 3 datagrams each way" "3 3" \
	"$(jq -r '.networks.net0 | "\(.translated_out) \(.translated_in)"' \
		<<<"$stats")"
check_eq "no drops" "0 0" \
	"$(jq -r '.networks.net0 | "\(.drop_malformed) \(.drop_nomem)"' \
		<<<"$stats")"
check_eq "the server never saw 198.18.0.0/15" 0 \
	"$(nft_packets "$SERVER" ip fragwatch leak)"

exit $ret
