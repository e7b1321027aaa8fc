#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl monitor sees the events of real flows and of network changes:
# network-new; session-new of a UDP flow, a TCP connection and a ping,
# with the right internal and external ends (the JSON of "monitor remote"
# has the remote end, the default text has none); network-set (timeout
# udp 2); session-del of the UDP flow with reason expired; session-del of
# the flushed TCP session with reason deleted; at the network's deletion,
# session-del of its last session (reason deleted) and then network-del.
# Both monitors see exactly that sequence, stamped with an ISO 8601 UTC
# time, and end with status 0 on SIGINT and SIGTERM.
#
#   client1 198.18.0.2, client2 198.18.0.6 (net0, external dev ext0)
#     --- router 203.0.113.1 --- server 203.0.113.2, .3

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss ping
require_module

pids=()
tmp=
mon_text="" mon_json=""
cleanup() {
	local p
	for p in "${pids[@]}" $mon_text $mon_json; do
		kill "$p" 2>/dev/null
	done
	bg_kill "${BG_PIDS[@]}"
	wait 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
	knat_cleanup
}
trap cleanup EXIT

tmp=$(mktemp -d /tmp/knat-ctl-monitor.XXXXXX) || exit $ksft_fail

setup_nat_topology || skip_test "cannot build the topology"

# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
ip netns exec "$SERVER" socat TCP-LISTEN:8080,bind=203.0.113.3,reuseaddr,fork \
	SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
pids+=($!)
busywait 30000 sh -c "ip netns exec $SERVER ss -lnu | grep -q '203.0.113.2:9000 ' &&
	ip netns exec $SERVER ss -lnt | grep -q '203.0.113.3:8080 '" ||
	{ fail "the servers did not start"; exit $ret; }

# The monitors: text without the remote ends, JSON with them.
txt=$tmp/monitor.txt json=$tmp/monitor.json
"$NATCTL" -n "$ROUTER" monitor >"$txt" 2>"$txt.err" &
mon_text=$!
"$NATCTL" -n "$ROUTER" -j monitor remote >"$json" 2>"$json.err" &
mon_json=$!

# They listen once they report a probe network's deletion.
probe() {
	natctl -n "$ROUTER" network add probe internal 198.18.9.0/24 \
		external 203.0.113.1 >/dev/null 2>&1
	natctl -n "$ROUTER" network delete probe >/dev/null 2>&1
	grep -q ' network-del probe ' "$txt" &&
		grep -q '"event":"network-del","name":"probe"' "$json"
}
busywait 30000 probe || { fail "the monitors report nothing"; exit $ret; }

# seen PATTERN: the text monitor has reported an event matching PATTERN
# (an extended regex on the text line, after the time).  The JSON monitor
# is waited for once, at the end: its events come in the same order.
seen() {
	grep -Eq "^[^ ]+ $1" "$txt"
}
wait_for() {	# MSG PATTERN
	busywait 30000 seen "$2" || fail "$1: not reported"
}

# timeout icmp 600: the pings' sessions outlive the test, however slow.
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 timeout icmp 600 ||
	{ fail "network add"; exit $ret; }
wait_for "network-new" "network-new net0 "

udp_ext=$(ip netns exec "$CLIENT1" socat -t 0.1 -T 10 \
	UDP:203.0.113.2:9000,sourceport=40000 \
	SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1)
check_match "a UDP flow" '^203\.0\.113\.1:[0-9]+$' "$udp_ext"
wait_for "session-new udp" "session-new udp "
tcp_ext=$(ip netns exec "$CLIENT2" socat -T 10 -u \
	TCP:203.0.113.3:8080,sourceport=41000 -)
check_match "a TCP connection" '^203\.0\.113\.1:[0-9]+$' "$tcp_ext"
wait_for "session-new tcp" "session-new tcp "
check "a ping" ip netns exec "$CLIENT1" ping -q -c 1 -W 5 -e 5555 203.0.113.3
wait_for "session-new icmp" "session-new icmp "
icmp_ext=$(natctl -n "$ROUTER" -j session show proto icmp |
	jq -r '.[0].external')

# The UDP session expires two seconds after the change.
check "network set net0 timeout udp 2" \
	natctl -n "$ROUTER" network set net0 timeout udp 2
wait_for "network-set" "network-set net0 "
wait_for "session-del udp, expired" "session-del udp .* reason expired$"

check "session flush proto tcp" natctl -n "$ROUTER" session flush proto tcp
wait_for "session-del tcp, deleted" "session-del tcp .* reason deleted$"

check "network delete net0" natctl -n "$ROUTER" network delete net0
wait_for "network-del" "network-del net0 "
busywait 30000 grep -q '"event":"network-del","name":"net0"' "$json"

kill -INT "$mon_text"
wait "$mon_text"
check_eq "text monitor: exit 0 on SIGINT" "0" "$?"
mon_text=
kill -TERM "$mon_json"
wait "$mon_json"
check_eq "JSON monitor: exit 0 on SIGTERM" "0" "$?"
mon_json=
check_eq "text monitor: nothing on stderr" "" "$(cat "$txt.err")"
check_eq "JSON monitor: nothing on stderr" "" "$(cat "$json.err")"

# --- The text: each line, in order, without the probe's ---
time_re='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
check_eq "text: every line starts with the time" "" \
	"$(grep -Ev "^$time_re " "$txt")"
check_eq "text: no remote end" "" "$(grep remote "$txt")"
mapfile -t lines < <(grep -v ' probe ' "$txt" | cut -d' ' -f2-)
expected=(
	"network-new net0 internal 198\.18\.0\.0/24 external dev ext0 \(203\.0\.113\.1\) ports default filtering address-dependent max-sessions [0-9]+ host-max-sessions 0 udp-inbound-refresh off hairpin on inbound-share 50 sessions 0 timeout tcp-established 7440 tcp-transitory 240 udp 300 icmp 600 tcp-syn 30 other 600"
	"session-new udp internal 198\.18\.0\.2:40000 external $udp_ext network net0"
	"session-new tcp internal 198\.18\.0\.6:41000 external $tcp_ext network net0"
	"session-new icmp internal 198\.18\.0\.2:5555 external $icmp_ext network net0"
	"network-set net0 internal 198\.18\.0\.0/24 external dev ext0 \(203\.0\.113\.1\) .* sessions 3 timeout tcp-established 7440 tcp-transitory 240 udp 2 icmp 600 tcp-syn 30 other 600"
	"session-del udp internal 198\.18\.0\.2:40000 external $udp_ext network net0 reason expired"
	"session-del tcp internal 198\.18\.0\.6:41000 external $tcp_ext network net0 reason deleted"
	"session-del icmp internal 198\.18\.0\.2:5555 external $icmp_ext network net0 reason deleted"
	"network-del net0 internal 198\.18\.0\.0/24 external dev ext0 .* udp 2 icmp 600 tcp-syn 30 other 600"
)
check_eq "text: the number of events" "${#expected[@]}" "${#lines[@]}"
for i in "${!expected[@]}"; do
	read -r -a w <<<"${expected[i]}"
	check_match "text: event $((i + 1)), ${w[0]} ${w[1]}" \
		"^${expected[i]}\$" "${lines[i]-}"
done

# --- The JSON: one object a line, the same events, with remote ends ---
check_eq "JSON: one object a line" "$(wc -l <"$json")" \
	"$(jq -s length "$json")"
mapfile -t events < <(jq -r --arg t "^$time_re\$" '
	select(.name != "probe") |
	if (.time | test($t) | not) then "bad time \(.time)"
	elif (.event | startswith("session-")) then
		"\(.event) \(.proto) \(.internal) \(.external) \(.remote) \(.network) \(.reason // "-")"
	else
		"\(.event) \(.name) \(.internal) \(.external_dev) \(.external | join(",")) \(.timeouts.udp) \(.sessions)"
	end' "$json")
expected=(
	"network-new net0 198.18.0.0/24 ext0 203.0.113.1 300 0"
	"session-new udp 198.18.0.2:40000 $udp_ext 203.0.113.2:9000 net0 -"
	"session-new tcp 198.18.0.6:41000 $tcp_ext 203.0.113.3:8080 net0 -"
	"session-new icmp 198.18.0.2:5555 $icmp_ext 203.0.113.3:0 net0 -"
	"network-set net0 198.18.0.0/24 ext0 203.0.113.1 2 3"
	"session-del udp 198.18.0.2:40000 $udp_ext 203.0.113.2:9000 net0 expired"
	"session-del tcp 198.18.0.6:41000 $tcp_ext 203.0.113.3:8080 net0 deleted"
	"session-del icmp 198.18.0.2:5555 $icmp_ext 203.0.113.3:0 net0 deleted"
	"network-del net0 198.18.0.0/24 ext0 203.0.113.1 2 0"
)
check_eq "JSON: the number of events" "${#expected[@]}" "${#events[@]}"
for i in "${!expected[@]}"; do
	read -r -a w <<<"${expected[i]}"
	check_eq "JSON: event $((i + 1)), ${w[0]} ${w[1]}" \
		"${expected[i]}" "${events[i]-}"
done

exit $ret
