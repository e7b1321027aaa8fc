#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Limits (RFC 6888 REQ-4/5/11): max-sessions, host-max-sessions and port
# exhaustion.  A new flow over a limit is dropped and counted; the flows
# that already have a session keep working.
#
#   client1 198.18.0.2 ---\
#                          router (net0) --- server 203.0.113.2:9000, .3:9000
#   client2 198.18.0.6 ---/                  (UDP, answers "ADDR:PORT")
#
#  1. max-sessions 2: client1's UDP flows from ports 40001 and 40002 work,
#     from 40003 it is dropped (drop_table_full), and so is client2's;
#     40001 and 40002 still work.
#  2. host-max-sessions 1 (max-sessions 100, sessions flushed): client1's
#     second flow is dropped (drop_host_limit) while client2 gets a
#     session; client1's first flow still works.
#  3. ports 20000-20001 (host limit off, sessions flushed): client1's flows
#     from three ports get 20000, 20001 and nothing (drop_no_port); the
#     first port can still reach another server through its mapping.
#  4. a freed port is held (RFC 6888 REQ-8; port_hold 3 s here, 120 by
#     default): right after a flush no new flow gets one of the two ports
#     (drop_no_port), after the hold one does.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3 ss
require_module
HOLD=/sys/module/knat/parameters/port_hold
hold0=$(cat "$HOLD" 2>/dev/null)
restore() {
	[ -z "$hold0" ] || echo "$hold0" >"$HOLD"
	nat_cleanup
}
trap restore EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server2"
udp_server "$SERVER" 203.0.113.3 9000 peer "$LOG/server3"

# flow NS SPORT [DST]: one UDP request; prints what the server saw.
flow() {
	udp_client "$1" -t 2 -b "0.0.0.0:$2" "${3:-203.0.113.2}:9000"
}

# drops: the drop counters of net0.
drops() {
	natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		"table_full \(.drop_table_full) host_limit \(.drop_host_limit) no_port \(.drop_no_port)"'
}

# --- max-sessions -----------------------------------------------------------

# (timeout udp 1200: the sessions must outlive the test on a slow CPU)
check "network add max-sessions 2" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 max-sessions 2 \
	timeout udp 1200

check_match "flow 1 works" '^203\.0\.113\.1:' "$(flow "$CLIENT1" 40001)"
check_match "flow 2 works" '^203\.0\.113\.1:' "$(flow "$CLIENT1" 40002)"
check_fail "flow 3 (over max-sessions) gets no answer" flow "$CLIENT1" 40003
check_fail "client2's flow (over max-sessions) gets no answer" \
	flow "$CLIENT2" 40001
check_eq "drop_table_full counts both" "table_full 2 host_limit 0 no_port 0" \
	"$(drops)"
check_eq "2 sessions" 2 "$(session_count "$R")"
check_eq "sessions_active 2" 2 "$(counter "$R" sessions_active net0)"
check_fail "no session for flow 3" has_session "$R" \
	'.internal == "198.18.0.2:40003"'
check_match "flow 1 still works" '^203\.0\.113\.1:' "$(flow "$CLIENT1" 40001)"
check_match "flow 2 still works" '^203\.0\.113\.1:' "$(flow "$CLIENT1" 40002)"
check_eq "the server saw flow 1 and 2 twice each, nothing else" 4 \
	"$(wc -l <"$LOG/server2")"

# --- host-max-sessions -------------------------------------------------------

check "session flush" natctl -n "$R" session flush network net0
check_eq "flushed" 0 "$(session_count "$R")"
check "network set max-sessions 100 host-max-sessions 1" \
	natctl -n "$R" network set net0 max-sessions 100 host-max-sessions 1

check_match "client1's first flow works" '^203\.0\.113\.1:' \
	"$(flow "$CLIENT1" 40011)"
check_fail "client1's second flow (over host-max-sessions) gets no answer" \
	flow "$CLIENT1" 40012
check_fail "client1's first port to another server (a second session) too" \
	flow "$CLIENT1" 40011 203.0.113.3
check_match "client2 still gets a session" '^203\.0\.113\.1:' \
	"$(flow "$CLIENT2" 40013)"
check_eq "drop_host_limit counts client1's two" \
	"table_full 2 host_limit 2 no_port 0" "$(drops)"
check_eq "one session per client" "198.18.0.2:40011 198.18.0.6:40013" \
	"$(nat_sessions "$R" | jq -r '[.[].internal] | sort | join(" ")')"
check_match "client1's first flow still works" '^203\.0\.113\.1:' \
	"$(flow "$CLIENT1" 40011)"

# --- port exhaustion -----------------------------------------------------------

# No hold while the ports of the flows before are freed: a random one of
# them may be 20000 or 20001.
check "port_hold 0" sh -c "echo 0 >$HOLD"
check "session flush" natctl -n "$R" session flush
check "network set host-max-sessions 0 ports 20000-20001" \
	natctl -n "$R" network set net0 host-max-sessions 0 ports 20000-20001

p1=$(flow "$CLIENT1" 40021)
p2=$(flow "$CLIENT1" 40022)
check_eq "two flows get the two ports" \
	"203.0.113.1:20000 203.0.113.1:20001" \
	"$(printf '%s\n' "$p1" "$p2" | sort | tr '\n' ' ' | sed 's/ $//')"
check_fail "a third flow (no port left) gets no answer" flow "$CLIENT1" 40023
check_fail "client2's flow (no port left) gets no answer" \
	flow "$CLIENT2" 40024
check_eq "drop_no_port counts both" "table_full 2 host_limit 2 no_port 2" \
	"$(drops)"
check_eq "an existing mapping reaches another server (no new port)" "$p1" \
	"$(flow "$CLIENT1" 40021 203.0.113.3)"
check_eq "3 sessions" 3 "$(session_count "$R")"
check_eq "no session without a port" 0 \
	"$(nat_sessions "$R" | jq '[.[] | select(.internal ==
		"198.18.0.2:40023" or .internal == "198.18.0.6:40024")] | length')"

# A port comes free when its mapping goes, after port_hold (3 s, longer
# on a slow machine: "right after" must come before it ends).
hold=$(scaled 3)
check "port_hold $hold" sh -c "echo $hold >$HOLD"
check "session flush" natctl -n "$R" session flush
nop=$(counter "$R" drop_no_port)
check_fail "right after the flush the freed ports are held: no port" \
	flow "$CLIENT1" 40023
check_eq "... counted in drop_no_port" $((nop + 1)) \
	"$(counter "$R" drop_no_port)"
got_port() {
	flow "$CLIENT1" 40025 | grep -qE '^203\.0\.113\.1:2000[01]$'
}
check "after port_hold, a new flow gets a port" \
	busywait $(( $(scaled 20) * 1000 )) got_port

exit $ret
