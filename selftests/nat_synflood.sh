#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A spoofed SYN flood at a port mapping on a network with a small
# max-sessions (issue 13's target):
#
#   client1 198.18.0.2 --+                     +-- client2 198.18.0.6:80
#                        router net0 (max-sessions 300)  (answers)
#   server 203.0.113.2 --+  ext0 203.0.113.1, map tcp 8080 -> client2:80
#     :9000 (answers)       192.0.2.0/24, 198.51.100.0/24 routed to the
#                           server's link (the flood's sources)
#
# nat_synflood.py sends KNAT_FLOOD_RATE (1000) SYNs a second for
# KNAT_FLOOD_SECONDS (60) from about 500 spoofed addresses and random
# ports, and twice a second opens a new flow from inside (client1 to the
# server) and a real connection to the mapping (the server to
# 203.0.113.1:8080), during the flood and 10 s after it.  Every one of
# them must get its answer: embryonic sessions are evicted for them, and
# sessions opened from outside hold at most inbound-share (50 %) of the
# table.  The counters must show the flood was real and was handled:
# sessions_evicted, sessions_active never above max-sessions, and every
# embryonic session gone once tcp-syn has passed.  The figures are printed
# (docs/robustness.md, "Hostile traffic").

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3 socat
require_module
trap nat_cleanup EXIT

RATE=${KNAT_FLOOD_RATE:-1000}
SECONDS_=${KNAT_FLOOD_SECONDS:-60}
AFTER=10
MAX=300
TCP_SYN=10

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER

# tcp-transitory 30: the probes' closed connections (two a second) go in
# 30 s rather than 240, or they alone would fill the small table.
check "network add net0 max-sessions $MAX timeout tcp-syn $TCP_SYN" \
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
	external dev ext0 max-sessions $MAX timeout tcp-syn $TCP_SYN \
	timeout tcp-transitory 30
check "map tcp 8080 to client2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.6:80
ip -n "$R" route add 192.0.2.0/24 via 203.0.113.2
ip -n "$R" route add 198.51.100.0/24 via 203.0.113.2

tcp_peer_server "$CLIENT2" 80
tcp_peer_server "$SERVER" 9000
check_eq "inside reaches the server" "203.0.113.1" \
	"$(tcp_peer "$CLIENT1" 203.0.113.2 9000 | cut -d: -f1)"
check_eq "the mapping is reached" "203.0.113.2" \
	"$(tcp_peer "$SERVER" 203.0.113.1 8080 | cut -d: -f1)"

mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
macs="$(mac "$SERVER" eth0),$(mac "$R" ext0)"

# The table's size as the flood goes on, twice a second.
watch_table() {
	while sleep 0.5; do
		counter "$R" sessions_active net0
	done >"$1"
}
nat_tmpdir
watch_table "$NAT_TMP/active" &
BG_PIDS+=("$!")

out=$(python3 "$KSELFTEST_DIR/nat_synflood.py" "$R" "$CLIENT1" "$SERVER" \
	"$macs" "$RATE" "$SECONDS_" "$AFTER") || fail "nat_synflood.py failed"
printf '%s\n' "$out" | grep '^#'
res=$(printf '%s\n' "$out" | sed -n 's/^RESULT //p')
declare -A r
for kv in $res; do r[${kv%%=*}]=${kv#*=}; done

log "natctl stats, net0:"
natctl -n "$R" stats network net0 | sed 's/^/#   /'
peak=$(sort -n "$NAT_TMP/active" | tail -n 1)
log "sessions_active: at most $peak of $MAX during the flood"

# A machine KNAT_TIME_SCALE times slower (the debug kernel) sends a flood
# that much thinner, and fewer probes: the same checks, on less.
scale=${KNAT_TIME_SCALE:-1}
if [ "${r[syns]:-0}" -ge $((RATE * SECONDS_ * 9 / 10 / scale)) ]; then
	ok "the flood was sent: ${r[syns]} SYNs in ${r[secs]} s"
else
	fail "the flood fell short: ${r[syns]:-0} SYNs"
fi
check_eq "every new flow from inside during the flood got through" \
	"${r[inside]:-none}" "${r[inside_ok]:-0}"
check_eq "every connection to the mapping during the flood got through" \
	"${r[mapped]:-none}" "${r[mapped_ok]:-0}"
check_eq "every new flow from inside after the flood got through" \
	"${r[after_inside]:-none}" "${r[after_inside_ok]:-0}"
check_eq "every connection to the mapping after the flood got through" \
	"${r[after_mapped]:-none}" "${r[after_mapped_ok]:-0}"
[ "${r[inside]:-0}" -ge $((SECONDS_ / 2 / scale)) ] ||
	fail "too few probes during the flood (${r[inside]:-0})"

evicted=$(counter "$R" sessions_evicted net0)
if [ "$evicted" -gt $((MAX * 10)) ]; then
	ok "embryonic sessions were evicted for new flows ($evicted)"
else
	fail "only $evicted sessions evicted"
fi
if [ -n "$peak" ] && [ "$peak" -le $MAX ]; then
	ok "the table never held more than max-sessions ($peak)"
else
	fail "the table held $peak sessions, max-sessions $MAX"
fi
check_eq "no new flow was refused for lack of room" "0 0" \
	"$(counter "$R" drop_table_full net0) $(counter "$R" drop_inbound_limit net0)"

# Every session of the flood goes within tcp-syn (and the collector's
# pass): none was ever established.
flood_gone() {
	[ "$(nat_sessions "$R" proto tcp | jq '[.[] | select(.remote |
		startswith("192.0.2.") or startswith("198.51.100."))] |
		length')" = 0 ]
}
check "every session of the flood expired after tcp-syn ($TCP_SYN s)" \
	busywait $(( $(scaled $((TCP_SYN + 15))) * 1000 )) flood_gone

exit $ret
