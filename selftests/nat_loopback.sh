#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host loopback: a process on the NAT router itself that connects to the
# external address and a mapped port reaches the internal target, which
# sees the router's address and the process's own port; ordinary local
# traffic to the router's addresses is left alone.
#
#   client1 198.18.0.2 --- router: net0 internal 198.18.0.0/24 --- server
#     :80 tcp, udp           external dev ext0 (203.0.113.1)      .2
#                            map tcp 8080 -> 198.18.0.2:80
#                            map udp 8080 -> 198.18.0.2:80
#                            its own listeners: tcp 9999, udp 9998
#
# From the router, TCP and UDP to 203.0.113.1:8080 reach client1's servers,
# which answer with the address and port they see: 203.0.113.1 and the
# router's source port.  The loopback counter moves; nothing leaves by
# ext0.  The router's own listeners answer the router, the server and
# client1 as themselves (the router also from its inside address, which
# is no spoof), and the loopback counter does not move for them.  So
# does the router's own 1:1 address, 203.0.113.50 (client2's), to the
# router itself: it is the router's, not translated.
# After `map del`, the router's connection to 8080 fails.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat nft jq python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

tcp_peer_server "$CLIENT1" 80
udp_server "$CLIENT1" 0.0.0.0 80 peer "$LOG/c1-80"
tcp_peer_server "$R" 9999
udp_server "$R" 0.0.0.0 9998 peer "$LOG/router"
server_watch "$SERVER"

# Long timeouts: sessions must outlive the test on a slow emulated CPU.
check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 \
	timeout udp 1800 timeout tcp-transitory 1800

check_fail "without a mapping, the router's TCP to 203.0.113.1:8080 fails" \
	tcp_peer "$R" 203.0.113.1 8080 43000
check "map add net0 tcp 8080 to 198.18.0.2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.2:80
check "map add net0 udp 8080 to 198.18.0.2:80" \
	natctl -n "$R" map add net0 udp 8080 to 198.18.0.2:80

# --- the router to its external address and a mapped port -----------------------

l0=$(counter "$R" loopback net0)
out=$(tcp_peer "$R" 203.0.113.1 8080 43001)
check_eq "TCP: client1:80 sees the router as 203.0.113.1, its port kept" \
	"203.0.113.1:43001" "$out"
out=$(udp_client "$R" -b 0.0.0.0:43002 -d lb1 203.0.113.1:8080)
check_eq "UDP: client1:80 sees the router as 203.0.113.1, its port kept" \
	"203.0.113.1:43002" "$out"
check_eq "UDP: client1's server logged it" "203.0.113.1:43002 3 lb1" \
	"$(cat "$LOG/c1-80")"
out=$(udp_client "$R" -b 203.0.113.1:43003 -d lb2 203.0.113.1:8080)
check_eq "UDP bound to 203.0.113.1: the same" "203.0.113.1:43003" "$out"
out=$(tcp_peer "$R" 203.0.113.1 8080 43004)
check_eq "TCP again, another port" "203.0.113.1:43004" "$out"

check "the loopback counter moved" counter_above "$R" loopback "$l0" net0
check_eq "nothing left by ext0" "0 0" \
	"$(nft_packets "$SERVER" inet watch nat) $(nft_packets "$SERVER" inet watch leak)"
for p in tcp udp; do
	check_match "map $p 8080 counted packets" '^[1-9][0-9]*$' \
		"$(natctl -n "$R" -j map show net0 | jq -r --arg p "$p" \
			'[.[] | select(.proto == $p)] | .[0].packets')"
done

# --- ordinary local traffic ----------------------------------------------------------

l1=$(counter "$R" loopback net0)
t1=$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
	"\(.translated_out) \(.translated_in)"')

out=$(tcp_peer "$R" 203.0.113.1 9999 43011)
check_eq "the router's TCP to its own 203.0.113.1:9999" \
	"203.0.113.1:43011" "$out"
out=$(tcp_peer "$R" 127.0.0.1 9999 43012)
check_eq "the router's TCP to 127.0.0.1:9999" "127.0.0.1:43012" "$out"
out=$(udp_client "$R" -b 0.0.0.0:43013 203.0.113.1:9998)
check_eq "the router's UDP to its own 203.0.113.1:9998" \
	"203.0.113.1:43013" "$out"
out=$(tcp_peer "$SERVER" 203.0.113.1 9999 43014)
check_eq "the server's TCP to the router's 9999" "203.0.113.2:43014" "$out"
out=$(udp_client "$SERVER" -b 203.0.113.2:43015 203.0.113.1:9998)
check_eq "the server's UDP to the router's 9998" "203.0.113.2:43015" "$out"
out=$(tcp_peer "$CLIENT1" 203.0.113.1 9999 43016)
check_eq "client1's TCP to the router's 203.0.113.1:9999, untranslated" \
	"198.18.0.2:43016" "$out"
# From the router's inside address to its outside one: the router's own
# business, never "spoofed" (it comes in on lo, where no route to
# 198.18.0.1 leaves).
# (TCP: the UDP server's answers leave from the address routing picks.)
sp=$(counter "$R" drop_spoofed net0)
out=$(ip netns exec "$R" timeout "$(scaled 20)" socat -u -T "$(scaled 10)" \
	"TCP:203.0.113.1:9999,bind=198.18.0.1:43019,connect-timeout=$(scaled 5)" \
	- </dev/null 2>/dev/null)
check_eq "the router's TCP from 198.18.0.1 to its own 203.0.113.1:9999" \
	"198.18.0.1 43019" "$out"
check_eq "... not counted as spoofed" "$sp" "$(counter "$R" drop_spoofed net0)"
out=$(tcp_peer "$R" 198.18.0.2 80 43017)
check_eq "the router's TCP straight to client1:80, untranslated" \
	"198.18.0.1:43017" "$out"
check_eq "ordinary local traffic: loopback not counted" "$l1" \
	"$(counter "$R" loopback net0)"
check_eq "ordinary local traffic: nothing translated" "$t1" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		"\(.translated_out) \(.translated_in)"')"

# --- the router to its own 1:1 address ---------------------------------------------------
# 203.0.113.50 is the router's, mapped 1:1 to client2: to the router it is
# its own address, as any other (issue 13 item 6: such packets come back
# through lo with a route attached; translated at PREROUTING they were
# routed anew from the router's own address and dropped as martians).

ip -n "$R" addr add 203.0.113.50/32 dev ext0
check "map add net0 ip 203.0.113.50 to 198.18.0.6" \
	natctl -n "$R" map add net0 ip 203.0.113.50 to 198.18.0.6
l2=$(counter "$R" loopback net0)
i2=$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0.translated_in')
out=$(tcp_peer "$R" 203.0.113.50 9999 43031)
check_eq "the router's TCP to its own 1:1 address 203.0.113.50:9999" \
	"203.0.113.50:43031" "$out"
out=$(udp_client "$R" -b 0.0.0.0:43032 203.0.113.50:9998)
check_eq "the router's UDP to its own 203.0.113.50:9998" \
	"203.0.113.50:43032" "$out"
check "the router pings its own 203.0.113.50" \
	ip netns exec "$R" ping -c 1 -W 5 203.0.113.50
check_eq "... nothing translated in" "$i2" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0.translated_in')"
check_eq "... loopback not counted" "$l2" "$(counter "$R" loopback net0)"
check "map del net0 ip 203.0.113.50" natctl -n "$R" map del net0 ip 203.0.113.50

# --- without the mapping ---------------------------------------------------------------

check "map del net0 tcp 8080" natctl -n "$R" map del net0 tcp 8080
check_fail "after map del, the router's TCP to 203.0.113.1:8080 fails" \
	tcp_peer "$R" 203.0.113.1 8080 43021
out=$(udp_client "$R" -b 0.0.0.0:43022 203.0.113.1:8080)
check_eq "udp 8080 still mapped" "203.0.113.1:43022" "$out"

exit $ret
