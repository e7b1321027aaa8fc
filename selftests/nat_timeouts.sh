#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Session timeouts (RFC 4787 REQ-5/6, RFC 5382 REQ-5, RFC 5508 REQ-2,
# RFC 7857), with timeouts of a few seconds:
#
#   client1 198.18.0.2 --- router (net0) --- server 203.0.113.2
#
# (3 s rather than 2, and traffic keeps each session while natctl looks at
# it: on a slow emulated CPU a step may take seconds.)
#
#  - UDP (timeout udp 3) and ICMP echo (timeout icmp 3) sessions: kept by
#    outbound traffic, they expire once it stops: they leave session show
#    and sessions_expired counts them;
#  - a TCP connection that ended (FIN both ways) is transitory: it expires
#    within tcp-transitory (240 s while it is made: a client that closes
#    its side first waits for the answer in a half-closed, transitory
#    session), then after tcp-transitory 3;
#  - udp-inbound-refresh (timeout udp 3 times KNAT_TIME_SCALE, the server
#    sending to the client every 0.5 s): off, the inbound traffic does not
#    keep the session; on, it does, for three times the timeout, and the
#    session expires once the traffic stops;
#  - an open, idle TCP connection is established: it outlives
#    tcp-transitory, and expires once tcp-established is lowered to 3
#    (changing a timeout re-times live sessions).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ping python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

udp_server "$SERVER" 203.0.113.2 9100 none "$LOG/sink"
tcp_peer_server "$SERVER" 8080
# A TCP server that keeps connections open and idle.
bg_run "$SERVER" socat TCP-LISTEN:8081,reuseaddr PIPE
wait_listen "$SERVER" tcp 8081

check "network add (udp 3, icmp 3)" \
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
	external dev ext0 timeout udp 3 timeout icmp 3

# expires_within SELECT MAX: the session's `expires` is 0 to MAX seconds.
expires_within() {
	nat_sessions "$R" | jq -e "map(select($1)) |
		length == 1 and .[0].expires >= 0 and .[0].expires <= $2" \
		>/dev/null
}

# expect_expiry MSG SELECT: the session leaves the list within 20 s (times
# KNAT_TIME_SCALE) and sessions_expired grows by one.
expect_expiry() {
	local before=$1 msg=$2 sel=$3
	if busywait 20000 no_session "$R" "$sel"; then
		ok "$msg: expired"
	else
		fail "$msg: still there after $(scaled 20) s: $(nat_sessions "$R")"
	fi
	check_eq "$msg: sessions_expired counts it" $((before + 1)) \
		"$(counter "$R" sessions_expired net0)"
}

# UDP and ICMP: while client1 sends every 0.5 s, the session stays (the
# outbound traffic refreshes it) and natctl sees it; once client1 stops,
# it expires.

# --- UDP ----------------------------------------------------------------

sel='.proto == "udp" and .internal == "198.18.0.2:25001"'
bg_run "$CLIENT1" python3 -c "$KNAT_UDP_PY" client -n -c 200 -i 0.5 \
	-b 0.0.0.0:25001 -d keep 203.0.113.2:9100
sender=${BG_PIDS[-1]}
check "UDP session listed" busywait 5000 has_session "$R" "$sel"
check "outbound traffic keeps it (5 s)" holds 5000 has_session "$R" "$sel"
check "UDP session expires within 3 s" expires_within "$sel" 3
exp=$(counter "$R" sessions_expired net0)
bg_kill "$sender"
expect_expiry "$exp" "UDP (timeout 3)" "$sel"

# --- ICMP -----------------------------------------------------------------

sel='.proto == "icmp" and (.internal | startswith("198.18.0.2:"))'
bg_run "$CLIENT1" ping -i 0.5 -c 200 203.0.113.2
sender=${BG_PIDS[-1]}
check "ICMP session listed" busywait 5000 has_session "$R" "$sel"
check "outbound echo requests keep it (5 s)" \
	holds 5000 has_session "$R" "$sel"
check "ICMP session expires within 3 s" expires_within "$sel" 3
exp=$(counter "$R" sessions_expired net0)
bg_kill "$sender"
expect_expiry "$exp" "ICMP (timeout 3)" "$sel"

# --- TCP, closed: transitory -------------------------------------------------

sel='.proto == "tcp" and .internal == "198.18.0.2:26001"'
exp=$(counter "$R" sessions_expired net0)
check_match "TCP connection made and closed" '^203\.0\.113\.1:' \
	"$(tcp_peer "$CLIENT1" 203.0.113.2 8080 26001)"
check "closed TCP session is closing" has_session "$R" \
	"$sel and .state == \"closing\""
check "closed TCP session expires within tcp-transitory (240)" \
	expires_within "$sel" 240
check "network set timeout tcp-transitory 3" \
	natctl -n "$R" network set net0 timeout tcp-transitory 3
expect_expiry "$exp" "closed TCP (tcp-transitory 3)" "$sel"

# --- udp-inbound-refresh ---------------------------------------------------------

# Here one outbound datagram makes the session, and natctl must read it
# before the UDP timeout ends it (with udp-inbound-refresh off nothing
# refreshes it): on a slow machine (a debug kernel under TCG) that takes
# longer than 3 s.  So this part's UDP timeout is 3 s times
# KNAT_TIME_SCALE, and what is measured against it (how long the inbound
# traffic goes on, how long it must keep the session) scales with it.
UT=$((3 * KNAT_TIME_SCALE))
check "network set timeout udp $UT" \
	natctl -n "$R" network set net0 timeout udp "$UT"

# inbound_test PORT: client1 listens on PORT; the server sends to
# 203.0.113.1:PORT every 0.5 s for 10 times UT seconds (nothing there
# before client1's mapping exists); then client1 sends one datagram from
# PORT to the server's sink, which makes the mapping 203.0.113.1:PORT (the
# port is free and in the range: preserved).  The order leaves no gap
# between the session's start and the inbound traffic.  Sets SEL and SENDER
# (the pid of the sending loop).
inbound_test() {
	SEL=".proto == \"udp\" and .internal == \"198.18.0.2:$1\""
	udp_server "$CLIENT1" 0.0.0.0 "$1" none "$LOG/client$1"
	bg_run "$SERVER" python3 -c "$KNAT_UDP_PY" client -n \
		-c $((20 * UT)) -i 0.5 \
		-b 203.0.113.2:9100 -d in "203.0.113.1:$1"
	SENDER=${BG_PIDS[-1]}
	busywait 10000 eval "ip netns exec '$SERVER' ss -Hun \
		dst 203.0.113.1:$1 | grep -q ."
	udp_client "$CLIENT1" -n -b "0.0.0.0:$1" -d out 203.0.113.2:9100
	busywait 5000 has_session "$R" "$SEL"
	check_eq "mapping 203.0.113.1:$1" "203.0.113.1:$1" \
		"$(nat_sessions "$R" | jq -r "[.[] | select($SEL)][0].external")"
}

# arrived PORT: client1's listener on PORT got some of the inbound traffic.
arrived() {
	grep -q '^203\.0\.113\.2:9100 .* in$' "$LOG/client$1"
}

log "udp-inbound-refresh off"
exp=$(counter "$R" sessions_expired net0)
inbound_test 25010
check "inbound datagrams reach the client" busywait 5000 arrived 25010
expect_expiry "$exp" "udp-inbound-refresh off: inbound traffic does not keep the session" "$SEL"
bg_kill "$SENDER"

log "udp-inbound-refresh on"
check "network set udp-inbound-refresh on" \
	natctl -n "$R" network set net0 udp-inbound-refresh on
exp=$(counter "$R" sessions_expired net0)
inbound_test 25011
check "inbound datagrams reach the client" busywait 5000 arrived 25011
check "udp-inbound-refresh on: inbound traffic keeps the session ($((3 * UT)) s)" \
	holds $((3 * UT * 1000)) has_session "$R" "$SEL"
# more_lines FILE N: FILE has more than N lines.
more_lines() {
	[ "$(wc -l <"$1")" -gt "$2" ]
}
check "inbound datagrams still reach the client" busywait 5000 \
	more_lines "$LOG/client25011" "$(wc -l <"$LOG/client25011")"
bg_kill "$SENDER"
expect_expiry "$exp" "udp-inbound-refresh on: the session expires once the traffic stops" "$SEL"

# --- TCP, open and idle: established -------------------------------------------

sel='.proto == "tcp" and .internal == "198.18.0.2:26002"'
exp=$(counter "$R" sessions_expired net0)
# Last: the connection stays open until the end.
bg_run "$CLIENT1" socat -u TCP:203.0.113.2:8081,sourceport=26002 /dev/null
if busywait 10000 has_session "$R" "$sel and .state == \"established\""; then
	ok "open TCP connection is established"
else
	fail "open TCP connection is established: $(nat_sessions "$R")"
fi
check_eq "established session uses tcp-established" 1 \
	"$(nat_sessions "$R" | jq "[.[] | select($sel) |
		select(.expires > 7000)] | length")"
check "idle established TCP session outlives tcp-transitory (7 s)" \
	holds 7000 has_session "$R" "$sel"
check "network set timeout tcp-established 3" \
	natctl -n "$R" network set net0 timeout tcp-established 3
expect_expiry "$exp" "idle TCP after tcp-established 3 (re-timed)" "$sel"

check_eq "no drops" "0 0 0 0 0" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		[.drop_filtered, .drop_table_full, .drop_host_limit,
		 .drop_no_port, .drop_malformed] | join(" ")')"

exit $ret
