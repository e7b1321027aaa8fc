#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checksums with and without offloads.
#
#   client1 198.18.0.2 --- router (net0) --- server 203.0.113.2
#
# A 1 MB TCP transfer from client1 to an echo server on the server and
# back, compared byte for byte, in three set-ups of the veths:
#
#  1. offloads on (veth's defaults: TSO/GSO, tx checksum offload; GRO on
#     the router): packets cross the NAT with CHECKSUM_PARTIAL, as GSO
#     super-packets;
#  2. the router's veths without tx checksumming: the hosts send partial
#     checksums, knat rewrites them, the router completes them in software
#     on the way out, and the receivers verify them (a wrong pseudo-header
#     update would be dropped);
#  3. every offload off everywhere: full checksums, updated incrementally
#     by knat, verified by the receivers.
#
# In set-ups 2 and 3 UDP datagrams must also arrive at the sockets both
# ways (a wrong checksum would be dropped), and UDP datagrams sent with checksum
# 0 ("none", built with a raw socket) must cross the NAT both ways with
# checksum still 0 (nft counts them on arrival; a socket receives them).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq python3 ss nft ethtool sha256sum
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

bg_run "$SERVER" socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat
wait_listen "$SERVER" tcp 8080
udp_server "$SERVER" 203.0.113.2 9000 none "$LOG/server"
# Counters of UDP checksums on arrival, at the server and at client1.
for ns in "$SERVER" "$CLIENT1"; do
	ip netns exec "$ns" nft -f - <<-'NFT'
	table inet csum {
		counter zero { }
		counter nonzero { }
		chain pre {
			type filter hook prerouting priority -300; policy accept;
			udp dport { 9000, 25000 } udp checksum 0 counter name zero
			udp dport { 9000, 25000 } udp checksum != 0 counter name nonzero
		}
	}
	NFT
done

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0

head -c 1000000 /dev/urandom >"$LOG/data"
sum=$(sha256sum <"$LOG/data" | cut -d' ' -f1)

# transfer NAME: 1 MB to the echo server and back, intact.
transfer() {
	local before
	before=$(counter "$R" translated_out net0)
	rm -f "$LOG/back"
	ip netns exec "$CLIENT1" timeout 120 socat -t 60 -T 60 \
		- "TCP:203.0.113.2:8080" <"$LOG/data" >"$LOG/back"
	check_eq "$1: 1 MB echoed back intact" \
		"1000000 $sum" \
		"$(stat -c %s "$LOG/back") $(sha256sum <"$LOG/back" | cut -d' ' -f1)"
	check "$1: translated" counter_above "$R" translated_out "$before" net0
}

# raw_udp NS SRC SPORT DST DPORT TAG: a UDP datagram with checksum 0.
raw_udp() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$6" <<-'PY'
	import socket, struct, sys
	src, sport, dst, dport, tag = sys.argv[1:6]
	payload = tag.encode()
	udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(payload), 0)
	# The kernel fills in the IP checksum, total length and id.
	ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, 17, 0,
	                 socket.inet_aton(src), socket.inet_aton(dst))
	s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	s.sendto(ip + udp + payload, (dst, 0))
	PY
}

# server_got TAG / client_got TAG: the socket received datagram TAG.
server_got() {
	grep -q "^203\.0\.113\.1:[0-9]* [0-9]* $1\$" "$LOG/server"
}
client_got() {
	grep -q "^203\.0\.113\.2:9000 [0-9]* $1\$" "$LOG/client"
}

# udp_checks NAME WORD: a normal datagram, and zero-checksum ones, both
# ways, tagged with WORD.
udp_checks() {
	local z nz ext
	nz=$(nft_packets "$SERVER" inet csum nonzero)
	udp_client "$CLIENT1" -n -b 0.0.0.0:25000 -d "$2-sum" 203.0.113.2:9000
	check "$1: UDP with a checksum reaches the server's socket" \
		busywait 5000 server_got "$2-sum"
	check_eq "$1: ... with a nonzero checksum" $((nz + 1)) \
		"$(nft_packets "$SERVER" inet csum nonzero)"

	z=$(nft_packets "$SERVER" inet csum zero)
	raw_udp "$CLIENT1" 198.18.0.2 25000 203.0.113.2 9000 "$2-zero-out"
	check "$1: UDP with checksum 0 reaches the server's socket" \
		busywait 5000 server_got "$2-zero-out"
	check_eq "$1: ... with checksum still 0" $((z + 1)) \
		"$(nft_packets "$SERVER" inet csum zero)"

	ext=$(nat_sessions "$R" | jq -r '.[] | select(.internal ==
		"198.18.0.2:25000") | .external')
	nz=$(nft_packets "$CLIENT1" inet csum nonzero)
	udp_client "$SERVER" -n -b 203.0.113.2:9000 -d "$2-sum-in" "$ext"
	check "$1: UDP with a checksum reaches client1's socket" \
		busywait 5000 client_got "$2-sum-in"
	check_eq "$1: ... with a nonzero checksum" $((nz + 1)) \
		"$(nft_packets "$CLIENT1" inet csum nonzero)"

	z=$(nft_packets "$CLIENT1" inet csum zero)
	raw_udp "$SERVER" 203.0.113.2 9000 "${ext%:*}" "${ext#*:}" \
		"$2-zero-in"
	check "$1: UDP with checksum 0 reaches client1's socket" \
		busywait 5000 client_got "$2-zero-in"
	check_eq "$1: ... with checksum still 0" $((z + 1)) \
		"$(nft_packets "$CLIENT1" inet csum zero)"
}

# offloads NS DEV on|off [FEATURE...]
offloads() {
	local ns=$1 dev=$2 v=$3 f args=()
	shift 3
	for f in "$@"; do
		args+=("$f" "$v")
	done
	ip netns exec "$ns" ethtool -K "$dev" "${args[@]}" >/dev/null 2>&1
}

log "1. offloads on, GRO on the router"
for dev in int1 int2 ext0; do
	offloads "$R" "$dev" on gro
done
check_match "client1's veth: tx checksumming on" ': on' \
	"$(ip netns exec "$CLIENT1" ethtool -k eth0 | grep '^tx-checksumming')"
transfer "offloads on"

log "2. the router's veths without tx checksumming"
for dev in int1 int2 ext0; do
	offloads "$R" "$dev" off tx
done
check_match "router's ext0: tx checksumming off" ': off' \
	"$(ip netns exec "$R" ethtool -k ext0 | grep '^tx-checksumming')"
transfer "router completes checksums"
udp_server "$CLIENT1" 0.0.0.0 25000 none "$LOG/client"
udp_checks "router completes checksums" partial

log "3. offloads off everywhere"
for dev in int1 int2 ext0; do
	offloads "$R" "$dev" off tx rx gso gro tso
done
for ns in "$CLIENT1" "$CLIENT2" "$SERVER"; do
	offloads "$ns" eth0 off tx rx gso gro tso
done
check_match "client1's veth: tx checksumming off" ': off' \
	"$(ip netns exec "$CLIENT1" ethtool -k eth0 | grep '^tx-checksumming')"
transfer "offloads off"
udp_checks "offloads off" off

check_eq "no drops" "0 0" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		"\(.drop_malformed) \(.drop_nomem)"')"

exit $ret
