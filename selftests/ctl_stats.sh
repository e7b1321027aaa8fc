#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl stats after real traffic:
# - the counters of each network and the total are what the traffic made,
#   in JSON (every counter) and in text (the counters that are not 0);
#   stats network NAME gives that network's alone;
# - stats reset network X zeroes X's counters, not the other network's,
#   not the total, not the gauge sessions_active; X counts on from 0;
# - stats reset zeroes every counter, networks and total, but not the
#   gauges (sessions_active, bytes_in_use);
# - stats explain and -s list every counter of every record, with its
#   value and what it counts;
# - stats format prometheus parses (each sample "name{labels} value", # HELP
#   and # TYPE for each metric, counters end in _total and gauges do not)
#   and its values are those of the JSON.
#
#   client1 198.18.0.2 (net1) \
#                              router --- server 203.0.113.2
#   client2 198.18.0.6 (net2) /

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss ping
require_module

trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
# timeout udp 3600, icmp 600: the sessions outlive the test, however slow.
natctl -n "$ROUTER" network add net1 internal 198.18.0.0/30 \
	external dev ext0 timeout udp 3600 timeout icmp 600 ||
	{ fail "network add net1"; exit $ret; }
natctl -n "$ROUTER" network add net2 internal 198.18.0.4/30 \
	external 203.0.113.1 timeout udp 3600 timeout icmp 600 ||
	{ fail "network add net2"; exit $ret; }

# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
busywait 30000 sh -c "ip netns exec $SERVER ss -lnu | grep -q '203.0.113.2:9000 '" ||
	{ fail "the server did not start"; exit $ret; }

# udp NS SPORT: one datagram out, its answer (what the server saw) back,
# waited for up to 10 s.
udp() {
	ip netns exec "$1" socat -t 0.1 -T 10 \
		UDP:203.0.113.2:9000,sourceport="$2" \
		SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1
}

stats() {	# the JSON of natctl stats [ARGS]
	natctl -n "$ROUTER" -j stats "$@"
}

# --- Traffic: net1 4 sessions, 5 packets each way; net2 1 session ---
for p in 40001 40002 40003; do
	check_match "client1, UDP port $p: answered" '^203\.0\.113\.1:' \
		"$(udp "$CLIENT1" $p)"
done
# Two echo requests of one identifier (one session), each answered.  Two
# pings of one request each: with -w, ping -c 2 sends a third request when
# the answers are slower than the interval; without it, it stops waiting
# for the second answer after twice the first one's round trip.
for i in 1 2; do
	check "client1: ping $i answered" \
		ip netns exec "$CLIENT1" ping -q -c 1 -W 10 -e 4444 203.0.113.2
done
check_match "client2, UDP: answered" '^203\.0\.113\.1:' \
	"$(udp "$CLIENT2" 40001)"

j0=$(stats)
counters='["drop_bridged_hairpin","drop_filtered","drop_host_limit",
	"drop_inbound_limit","drop_malformed","drop_no_port","drop_nomem",
	"drop_spoofed",
	"drop_table_full","drop_tcp_invalid","drop_tcp_no_syn",
	"drop_untranslatable","hairpinned","icmp_errors_translated","loopback",
	"sessions_active","sessions_added","sessions_deleted",
	"sessions_evicted","sessions_expired","translated_in",
	"translated_out"]'
nonzero='with_entries(select(.value != 0))'
mapfile -t got < <(jq -S -c --argjson c "$counters" "
	(.networks | keys),
	(.networks | map(keys == \$c) | all),
	(.total | keys == (\$c + [\"bytes_in_use\"] | sort)),
	(.networks.net1 | $nonzero),
	(.networks.net2 | $nonzero),
	(.total | del(.bytes_in_use) | $nonzero),
	(.total.bytes_in_use > 0)" <<<"$j0")
check_eq "JSON: the two networks" '["net1","net2"]' "${got[0]-}"
check_eq "JSON: every counter of each network" "true" "${got[1]-}"
check_eq "JSON: every counter of the total, and bytes_in_use" "true" "${got[2]-}"
check_eq "JSON: net1's counters" \
	'{"sessions_active":4,"sessions_added":4,"translated_in":5,"translated_out":5}' \
	"${got[3]-}"
check_eq "JSON: net2's counters" \
	'{"sessions_active":1,"sessions_added":1,"translated_in":1,"translated_out":1}' \
	"${got[4]-}"
check_eq "JSON: the total" \
	'{"sessions_active":5,"sessions_added":5,"translated_in":6,"translated_out":6}' \
	"${got[5]-}"
check_eq "JSON: bytes_in_use counts the sessions" "true" "${got[6]-}"

# stats network NAME: that network's record alone.
check_eq "stats network net1: net1 alone, as in the whole" \
	"$(jq -S -c '{networks: {net1: .networks.net1}}' <<<"$j0")" \
	"$(stats network net1 | jq -S -c .)"
check_fail "stats network nosuch fails" natctl -n "$ROUTER" stats network nosuch

# Text: the counters that are not 0, in the order of the JSON.
text_of() {	# JSON: natctl's text for it
	jq -r '(.networks | to_entries[] | "network \(.key):",
		(.value | to_entries[] | select(.value != 0) |
		 "  \(.key) \(.value)")),
	       "total:", (.total | to_entries[] | select(.value != 0) |
		"  \(.key) \(.value)")' <<<"$1"
}
check_eq "text: the counters that are not 0" "$(text_of "$j0")" \
	"$(natctl -n "$ROUTER" stats)"

# --- stats explain and -s: every counter, with what it counts ---
explain=$(natctl -n "$ROUTER" stats explain)
check_eq "-s stats is stats explain" "$explain" "$(natctl -n "$ROUTER" -s stats)"
# "RECORD COUNTER VALUE" for each counter of the explanation; each has one.
listed="" unexplained=""
while read -r first second rest; do
	case $first in
	network) rec=${second%:} ;;
	total:) rec=total ;;
	*)
		listed+="$rec $first $second"$'\n'
		[ -n "$rest" ] || unexplained+=" $rec/$first"
		;;
	esac
done <<<"$explain"
check_eq "explain: every counter of every record, with its value" \
	"$(jq -r '(.networks | to_entries[] | .key as $n | .value |
		to_entries[] | "\($n) \(.key) \(.value)"),
	   (.total | to_entries[] | "total \(.key) \(.value)")' <<<"$j0")" \
	"${listed%$'\n'}"
check_eq "explain: each counter has an explanation" "" "$unexplained"
check_match "explain: bytes_in_use explained" \
	'^  bytes_in_use +[0-9]+  [A-Z].*memory' "$explain"

# --- Prometheus ---
prom=$(natctl -n "$ROUTER" stats format prometheus)
# Its syntax: HELP and TYPE before the samples of each metric, counters
# named *_total, gauges not.
bad=$(awk '
	/^# HELP / { if (NF < 4) print "HELP without text: " $0
		     help[$3] = 1; next }
	/^# TYPE / { if ($4 != "counter" && $4 != "gauge")
			print "unexpected TYPE: " $0
		     type[$3] = $4; next }
	/^#/ { print "other comment: " $0; next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{network="[^"]*"\})? [0-9]+$/) {
			print "bad sample: " $0; next
		}
		name = $1; sub(/\{.*/, "", name)
		if (!(name in help)) print "no HELP before: " $0
		if (!(name in type)) print "no TYPE before: " $0
		if (type[name] == "counter" && name !~ /_total$/)
			print "counter without _total: " name
		if (type[name] == "gauge" && name ~ /_total$/)
			print "gauge with _total: " name
		if (type[name] == "gauge") gauges[name] = 1
		n++
	}
	END {
		if (!n) print "no samples"
		for (g in gauges) print "gauge " g
	}' <<<"$prom" | sort)
check_eq "prometheus: every line parses; the gauges" \
	"gauge knat_namespace_bytes_in_use
gauge knat_namespace_sessions_active
gauge knat_sessions_active" "$bad"
check_match "prometheus: a labelled counter" \
	'^knat_translated_out_total\{network="net1"\} 5$' "$prom"
check_match "prometheus: the namespace's counter" \
	'^knat_namespace_translated_out_total 6$' "$prom"

# Its values, as JSON: knat_C_total{network="N"} / knat_C{...} are
# networks.N.C, knat_namespace_C[_total] total.C.
prom_json() {
	awk '!/^#/ {
		name = $1; net = "-"
		if (match(name, /\{network="[^"]*"\}/)) {
			net = substr(name, RSTART + 10, RLENGTH - 12)
			name = substr(name, 1, RSTART - 1)
		}
		print net, name, $2
	}' <<<"$1" | jq -R -s -S -c 'split("\n") | map(select(. != "") | split(" ")) |
		reduce .[] as [$n, $m, $v] ({};
			if $n == "-" then
				.total[$m | ltrimstr("knat_namespace_") |
					rtrimstr("_total")] = ($v | tonumber)
			else
				.networks[$n][$m | ltrimstr("knat_") |
					rtrimstr("_total")] = ($v | tonumber)
			end)'
}
check_eq "prometheus: the values of the JSON" "$(jq -S -c . <<<"$j0")" \
	"$(prom_json "$prom")"
check_eq "prometheus, network net1: net1's values alone" \
	"$(jq -S -c '{networks: {net1: .networks.net1}}' <<<"$j0")" \
	"$(prom_json "$(natctl -n "$ROUTER" stats network net1 format prometheus)")"
check_fail "prometheus and -j exclude each other" \
	natctl -n "$ROUTER" -j stats format prometheus

# --- stats reset network net1 ---
check "stats reset network net1" natctl -n "$ROUTER" stats reset network net1
j1=$(stats)
mapfile -t want < <(jq -S -c '
	(.networks.net1 | with_entries(if .key == "sessions_active" then .
				       else .value = 0 end)),
	.networks.net2, .total' <<<"$j0")
mapfile -t got < <(jq -S -c '.networks.net1, .networks.net2, .total' <<<"$j1")
check_eq "reset net1: its counters are 0, sessions_active stays 4" \
	"${want[0]-}" "${got[0]-}"
check_eq "reset net1: net2's counters stay" "${want[1]-}" "${got[1]-}"
check_eq "reset net1: the total stays" "${want[2]-}" "${got[2]-}"
check_fail "stats reset network nosuch fails" \
	natctl -n "$ROUTER" stats reset network nosuch

# net1 counts on from 0.
check_match "client1, UDP port 40004: answered" '^203\.0\.113\.1:' \
	"$(udp "$CLIENT1" 40004)"
mapfile -t got < <(jq -S -c ".networks.net1 | $nonzero" <<<"$(stats)")
check_eq "net1 counts on from 0" \
	'{"sessions_active":5,"sessions_added":1,"translated_in":1,"translated_out":1}' \
	"${got[0]-}"

# --- stats reset: every counter, not the gauges ---
j2=$(stats)
check "stats reset" natctl -n "$ROUTER" stats reset
j3=$(stats)
zero='with_entries(if .key == "sessions_active" or .key == "bytes_in_use"
		   then . else .value = 0 end)'
check_eq "reset: every counter is 0, the gauges stay" \
	"$(jq -S -c "{networks: (.networks | map_values($zero)),
		      total: (.total | $zero)}" <<<"$j2")" \
	"$(jq -S -c . <<<"$j3")"
check_eq "reset: text shows the gauges alone" \
	"network net1:
  sessions_active 5
network net2:
  sessions_active 1
total:
  sessions_active 6
  bytes_in_use $(jq .total.bytes_in_use <<<"$j3")" \
	"$(natctl -n "$ROUTER" stats)"

exit $ret
