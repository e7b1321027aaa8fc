#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Basic NAT: TCP, UDP and ICMP echo from two internal hosts reach a server
# that sees only the router's external address, and the answers come back.
#
#   client1 198.18.0.2 ---\
#                          router: net0 internal 198.18.0.0/24 --- server
#   client2 198.18.0.6 ---/        external dev ext0 (203.0.113.1)  203.0.113.2
#
# The server has no route to 198.18.0.0/24: the answers reach the clients
# only through the NAT.  An nft counter on the server counts any packet
# from 198.18.0.0/15 (an untranslated one): it must stay 0.  natctl's
# session list (text and JSON), its counters and network show must say
# what happened; after `network del` the same traffic fails and the
# sessions are gone.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat nft jq ping python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

tcp_peer_server "$SERVER" 8080
udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/udp"

check_fail "without NAT, client1 cannot ping the server" \
	ip netns exec "$CLIENT1" ping -c 1 -W 1 203.0.113.2
server_watch "$SERVER"

check "network add" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0

# --- the network as shown -------------------------------------------------

show=$(natctl -n "$R" -j network show)
check_eq "JSON: one network" 1 "$(jq length <<<"$show")"
check_eq "JSON: name, prefix, device, address" \
	'net0 198.18.0.0/24 ext0 203.0.113.1' \
	"$(jq -r '.[0] | "\(.name) \(.internal) \(.external_dev) \(.external|join(","))"' <<<"$show")"
check_eq "JSON: defaults" \
	'default address-dependent 0 false 50 7440 240 300 60 30 600 0' \
	"$(jq -r '.[0] | "\(.ports) \(.filtering) \(.host_max_sessions) \(.udp_inbound_refresh) \(.inbound_share) \(.timeouts.tcp_established) \(.timeouts.tcp_transitory) \(.timeouts.udp) \(.timeouts.icmp) \(.timeouts.tcp_syn) \(.timeouts.other) \(.sessions)"' <<<"$show")"
text=$(natctl -n "$R" network show)
check_match "text: network line" \
	'^net0: internal 198\.18\.0\.0/24 external dev ext0 \(203\.0\.113\.1\) ports default filtering address-dependent' \
	"$text"
check_match "text: timeouts" \
	'timeout tcp-established 7440 tcp-transitory 240 udp 300 icmp 60 tcp-syn 30 other 600' \
	"$text"

# ICMP sessions must outlive the test on a slow emulated CPU, which may
# take longer than the default 60 s between the pings and the last check.
check "network set timeout icmp 600" \
	natctl -n "$R" network set net0 timeout icmp 600
check_eq "JSON: timeout icmp 600, the others kept" "7440 240 300 600" \
	"$(natctl -n "$R" -j network show net0 | jq -r '.[0].timeouts |
		"\(.tcp_established) \(.tcp_transitory) \(.udp) \(.icmp)"')"

# --- traffic --------------------------------------------------------------

declare -A ext
for c in 1 2; do
	ns=CLIENT$c; ns=${!ns}
	addr=198.18.0.$((c * 4 - 2))

	out=$(tcp_peer "$ns" 203.0.113.2 8080 4100$c)
	check_match "client$c TCP: server sees 203.0.113.1" \
		'^203\.0\.113\.1:[0-9]+$' "$out"
	ext[tcp$c]=${out#*:}

	out=$(udp_client "$ns" -b "0.0.0.0:4200$c" -d "hello$c" \
		203.0.113.2:9000)
	check_match "client$c UDP: server sees 203.0.113.1" \
		'^203\.0\.113\.1:[0-9]+$' "$out"
	ext[udp$c]=${out#*:}

	check "client$c ping" \
		ip netns exec "$ns" ping -c 1 -W 5 203.0.113.2
done

check_eq "server got 2 UDP datagrams, both from 203.0.113.1" "2 2" \
	"$(wc -l <"$LOG/udp") $(grep -c '^203\.0\.113\.1:' "$LOG/udp")"
check_eq "TCP: each client has its own external port" 1 \
	"$([ "${ext[tcp1]}" != "${ext[tcp2]}" ] && echo 1)"
check_eq "UDP: each client has its own external port" 1 \
	"$([ "${ext[udp1]}" != "${ext[udp2]}" ] && echo 1)"
check_eq "server saw 2 echo requests from 203.0.113.1" 2 \
	"$(nft_packets "$SERVER" inet watch echo)"
check_eq "server saw no packet from 198.18.0.0/15" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

# --- sessions ---------------------------------------------------------------

sess=$(nat_sessions "$R")
check_eq "6 sessions (TCP, UDP, ICMP per client)" 6 "$(jq length <<<"$sess")"
for c in 1 2; do
	addr=198.18.0.$((c * 4 - 2))
	check_eq "client$c TCP session" 1 "$(jq --arg i "$addr:4100$c" \
		--arg e "203.0.113.1:${ext[tcp$c]}" '[.[] | select(.network ==
		"net0" and .proto == "tcp" and .internal == $i and .external ==
		$e and .remote == "203.0.113.2:8080")] | length' <<<"$sess")"
	check_eq "client$c UDP session" 1 "$(jq --arg i "$addr:4200$c" \
		--arg e "203.0.113.1:${ext[udp$c]}" '[.[] | select(.network ==
		"net0" and .proto == "udp" and .internal == $i and .external ==
		$e and .remote == "203.0.113.2:9000" and .state == "active")] |
		length' <<<"$sess")"
	check_eq "client$c ICMP session (same identifier outside)" 1 \
		"$(jq --arg a "$addr" '[.[] | select(.network == "net0" and
		.proto == "icmp" and (.internal | startswith($a + ":")) and
		(.external | startswith("203.0.113.1:")) and .remote ==
		"203.0.113.2:0")] | length' <<<"$sess")"
done
check_eq "every session expires within its timeout" 0 \
	"$(jq '[.[] | select(.expires <= 0 or .expires > {"tcp": 240,
		"udp": 300, "icmp": 600}[.proto])] | length' <<<"$sess")"

text=$(natctl -n "$R" session show)
check_eq "text: 6 session lines" 6 "$(grep -c . <<<"$text")"
check_match "text: client1 TCP session" \
	"^tcp +198\.18\.0\.2:41001 +-> 203\.0\.113\.1:${ext[tcp1]} +-> 203\.0\.113\.2:8080 .* network net0$" \
	"$text"
check_match "text: client2 UDP session" \
	"^udp +198\.18\.0\.6:42002 +-> 203\.0\.113\.1:${ext[udp2]} +-> 203\.0\.113\.2:9000 +active +expires [0-9]+s +network net0$" \
	"$text"
check_match "text: client1 ICMP session" \
	'^icmp +198\.18\.0\.2:[0-9]+ +-> 203\.0\.113\.1:[0-9]+ +-> 203\.0\.113\.2:0 ' \
	"$text"
check_eq "session show proto udp lists 2" 2 \
	"$(session_count "$R" proto udp)"
check_eq "session show network net0 lists 6" 6 \
	"$(session_count "$R" network net0)"

# --- counters ---------------------------------------------------------------

stats=$(natctl -n "$R" -j stats)
for c in translated_out translated_in; do
	check_match "$c > 0" '^[1-9][0-9]*$' \
		"$(jq -r ".networks.net0.$c" <<<"$stats")"
done
check_eq "sessions_added, sessions_active" "6 6" \
	"$(jq -r '.networks.net0 | "\(.sessions_added) \(.sessions_active)"' \
		<<<"$stats")"
check_eq "no drops, nothing expired or deleted" "0 0 0 0 0 0 0 0" \
	"$(jq -r '.networks.net0 | [.drop_table_full, .drop_host_limit,
		.drop_no_port, .drop_filtered, .drop_malformed, .drop_nomem,
		.sessions_expired, .sessions_deleted] | join(" ")' <<<"$stats")"
check_eq "the total equals the only network" \
	"$(jq -c '.networks.net0 | del(.bytes_in_use)' <<<"$stats")" \
	"$(jq -c '.total | del(.bytes_in_use)' <<<"$stats")"
check_match "bytes_in_use > 0 with sessions" '^[1-9][0-9]*$' \
	"$(jq -r '.total.bytes_in_use' <<<"$stats")"
check_eq "network show counts 6 sessions" 6 \
	"$(natctl -n "$R" -j network show net0 | jq '.[0].sessions')"

# --- the same traffic again reuses the sessions --------------------------------

out=$(udp_client "$CLIENT1" -b 0.0.0.0:42001 203.0.113.2:9000)
check_eq "UDP again: same external port" "203.0.113.1:${ext[udp1]}" "$out"
check_eq "UDP again: no new session" 6 "$(counter "$R" sessions_added net0)"

# --- without the network ------------------------------------------------------

check "network del" natctl -n "$R" network del net0
check_eq "no sessions left" 0 "$(session_count "$R")"
check_eq "no networks left" 0 "$(natctl -n "$R" -j network show | jq length)"
check_fail "without the network, client1's ping fails" \
	ip netns exec "$CLIENT1" ping -c 1 -W 2 203.0.113.2
check_fail "without the network, client2's UDP gets no answer" \
	udp_client "$CLIENT2" -t 2 203.0.113.2:9000
check_match "the untranslated packets reached the server as they were" \
	'^[1-9][0-9]*$' "$(nft_packets "$SERVER" inet watch leak)"

exit $ret
