#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): an internal host reaching
# another one through the external address and a mapped port.
#
#   client1 198.18.0.2 ---\   router: net0 internal 198.18.0.0/24
#     :80 tcp, :5353 udp     external dev ext0 (203.0.113.1) --- server
#   client2 198.18.0.6 ---/   map tcp 8080 -> 198.18.0.2:80      .2
#                             map udp 5353 -> 198.18.0.2:5353
#
# client2 connects to 203.0.113.1:8080 and sends to 203.0.113.1:5353: the
# servers on client1 answer with the address and port they see, which
# must be 203.0.113.1 and client2's external port, the one natctl shows in
# client2's session.  The packets never leave by ext0 (the server counts
# what arrives from 203.0.113.1 or 198.18.0.0/15).  The hairpinned counter
# moves.  Then a dynamic mapping of client1 (UDP, from port 25000): under
# address-dependent filtering client2 cannot use it, under
# endpoint-independent filtering it can.  With `hairpin off`, client2's
# connections fail and nothing is translated; `hairpin on` again, they work.
# Then client1 pings 203.0.113.50, mapped 1:1 to client2: client2 answers,
# seeing the pings come from 203.0.113.1.  Last, once udp 5353 is unmapped,
# client2 talks to client1:5353 straight from the port of its hairpinned
# flow: untranslated.

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
udp_server "$CLIENT1" 0.0.0.0 5353 peer "$LOG/c1-5353"
udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server"
server_watch "$SERVER"

# What reaches client1's servers (the hairpinned flows arrive on eth0).
ip netns exec "$CLIENT1" nft -f - <<-'NFT'
table inet watch {
	counter in { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iif eth0 tcp dport 80 counter name in
		iif eth0 udp dport { 5353, 25000 } counter name in
	}
}
NFT

# ext_port_of INTERNAL PROTO: the external address:port of the session
# whose internal end is INTERNAL (e.g. 198.18.0.6:42001), "no session"
# when there is none.
ext_port_of() {
	local e
	e=$(nat_sessions "$R" | jq -r --arg i "$1" --arg p "$2" \
		'[.[] | select(.internal == $i and .proto == $p) |
		 .external] | unique | join(" ")')
	echo "${e:-no session}"
}

# Long timeouts: sessions must outlive the test on a slow emulated CPU.
check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 \
	timeout udp 1800 timeout tcp-transitory 1800
check_eq "hairpin is on by default" true \
	"$(natctl -n "$R" -j network show net0 | jq -r '.[0].hairpin')"
check "map add net0 tcp 8080 to 198.18.0.2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.2:80
check "map add net0 udp 5353 to 198.18.0.2" \
	natctl -n "$R" map add net0 udp 5353 to 198.18.0.2

# --- through the static mappings ------------------------------------------------

h0=$(counter "$R" hairpinned net0)

out=$(tcp_peer "$CLIENT2" 203.0.113.1 8080 42001)
check_match "TCP: client1:80 sees client2 as 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$out"
check_eq "TCP: ... at client2's external address and port" \
	"$(ext_port_of 198.18.0.6:42001 tcp)" "$out"
log "client2's TCP session: $(nat_sessions "$R" | jq -c '.[] |
	select(.internal == "198.18.0.6:42001")')"

out=$(udp_client "$CLIENT2" -b 0.0.0.0:42002 -d hp1 203.0.113.1:5353)
check_match "UDP: client1:5353 sees client2 as 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$out"
check_eq "UDP: ... at client2's external address and port" \
	"$(ext_port_of 198.18.0.6:42002 udp)" "$out"
check_eq "UDP: client1's server logged it from there" "$out 3 hp1" \
	"$(cat "$LOG/c1-5353")"

out=$(tcp_peer "$CLIENT1" 203.0.113.1 8080 42003)
check_eq "client1 reaches its own mapping, from its external port" \
	"$(ext_port_of 198.18.0.2:42003 tcp)" "$out"

check "the hairpinned counter moved" counter_above "$R" hairpinned "$h0" net0
check_eq "nothing left by ext0 (from 203.0.113.1)" 0 \
	"$(nft_packets "$SERVER" inet watch nat)"
check_eq "nothing left by ext0 (untranslated)" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"
check_match "map tcp 8080 counted the hairpinned packets" '^[1-9][0-9]*$' \
	"$(natctl -n "$R" -j map show net0 | jq -r '[.[] |
		select(.proto == "tcp")] | .[0].packets')"

# --- through a dynamic mapping ----------------------------------------------------

log "client1's dynamic mapping from udp 25000"
out=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 203.0.113.2:9000)
check_match "client1 from 25000 to the server: translated" \
	'^203\.0\.113\.1:[0-9]+$' "$out"
e=${out#*:}
udp_server "$CLIENT1" 0.0.0.0 25000 peer "$LOG/c1-25000"

check_fail "address-dependent: client2 cannot use it (never sent to)" \
	udp_client "$CLIENT2" -b 0.0.0.0:42004 -t 2 -d ad "203.0.113.1:$e"
check_eq "address-dependent: nothing reached client1's port 25000" 0 \
	"$(wc -l <"$LOG/c1-25000")"

check "network set net0 filtering endpoint-independent" \
	natctl -n "$R" network set net0 filtering endpoint-independent
h1=$(counter "$R" hairpinned net0)
out=$(udp_client "$CLIENT2" -b 0.0.0.0:42005 -d eif "203.0.113.1:$e")
check_match "endpoint-independent: client2 reaches client1:25000" \
	'^203\.0\.113\.1:[0-9]+$' "$out"
check_eq "... seen at client2's external address and port" \
	"$(ext_port_of 198.18.0.6:42005 udp)" "$out"
check_eq "client1's server logged it from there" "$out 3 eif" \
	"$(grep ' eif$' "$LOG/c1-25000")"
check "the hairpinned counter moved" counter_above "$R" hairpinned "$h1" net0

# --- hairpin off ----------------------------------------------------------------------

check "network set net0 hairpin off" \
	natctl -n "$R" network set net0 hairpin off
check_eq "network show -j: hairpin false" false \
	"$(natctl -n "$R" -j network show net0 | jq -r '.[0].hairpin')"

stats() {
	natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		[.translated_out, .translated_in, .sessions_added,
		 .hairpinned] | join(" ")'
}
before=$(stats)
seen=$(nft_packets "$CLIENT1" inet watch in)
check_fail "hairpin off: TCP to 203.0.113.1:8080 fails" \
	tcp_peer "$CLIENT2" 203.0.113.1 8080 42006
check_fail "hairpin off: UDP to 203.0.113.1:5353 unanswered" \
	udp_client "$CLIENT2" -b 0.0.0.0:42007 -t 2 -d off 203.0.113.1:5353
check_fail "hairpin off: UDP to the dynamic mapping unanswered" \
	udp_client "$CLIENT2" -b 0.0.0.0:42008 -t 2 -d off2 "203.0.113.1:$e"
check_eq "hairpin off: nothing reached client1" "$seen" \
	"$(nft_packets "$CLIENT1" inet watch in)"
check_eq "hairpin off: nothing translated, no session, not counted" \
	"$before" "$(stats)"
check "hairpin off: no session for client2's attempts" no_session "$R" \
	'.internal | test("^198\\.18\\.0\\.6:4200[678]$")'

out=$(tcp_peer "$SERVER" 203.0.113.1 8080 41080)
check_eq "hairpin off: the mapping still serves the outside" \
	"203.0.113.2:41080" "$out"

check "network set net0 hairpin on" \
	natctl -n "$R" network set net0 hairpin on
out=$(tcp_peer "$CLIENT2" 203.0.113.1 8080 42009)
check_eq "hairpin on again: TCP works" \
	"$(ext_port_of 198.18.0.6:42009 tcp)" "$out"

# --- a ping through a 1:1 mapping (RFC 5508 REQ-7) ---------------------------------

# 203.0.113.50 is the router's (on ext0), mapped 1:1 to client2: without
# hairpinning the router would answer client1's pings itself.
ip -n "$R" addr add 203.0.113.50/32 dev ext0
check "map add net0 ip 203.0.113.50 to 198.18.0.6" \
	natctl -n "$R" map add net0 ip 203.0.113.50 to 198.18.0.6
ip netns exec "$CLIENT2" nft -f - <<-'NFT'
table inet pingwatch {
	counter echo { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iif eth0 ip saddr 203.0.113.1 icmp type echo-request counter name echo
	}
}
NFT
h2=$(counter "$R" hairpinned net0)
check "client1 pings 203.0.113.50: both answered" \
	ip netns exec "$CLIENT1" ping -c 2 -i 0.5 -W 5 203.0.113.50
check_eq "client2 got both echo requests, from 203.0.113.1" 2 \
	"$(nft_packets "$CLIENT2" inet pingwatch echo)"
check "the hairpinned counter moved" counter_above "$R" hairpinned "$h2" net0
check_match "the 1:1 mapping counted the pings and replies" '^[1-9][0-9]*$' \
	"$(natctl -n "$R" -j map show net0 | jq -r '[.[] |
		select(.proto == "ip")] | .[0].packets')"

# --- a direct flow after the mapping is gone -----------------------------------------

# client2's session of its hairpinned UDP flow from 42002 outlives the
# mapping; the same ports straight to client1's internal address are a
# flow of their own, untranslated (the hairpin index entry is stale).
check "map del net0 udp 5353" natctl -n "$R" map del net0 udp 5353
out=$(udp_client "$CLIENT2" -b 0.0.0.0:42002 -d dr1 198.18.0.2:5353)
check_eq "client2 straight to client1:5353 from 42002: untranslated" \
	"198.18.0.6:42002" "$out"

exit $ret
