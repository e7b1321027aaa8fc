#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl -f FILE and -f -: a file of changes is one transaction.
#
# - A file that creates three networks with options applies, from a file
#   and from standard input.
# - A file whose last line the kernel refuses (an overlapping prefix; a
#   duplicate name after a flush) fails with exit 1 and names FILE:LINE of
#   that line; the networks, the sessions, the counters and the live
#   traffic are exactly as before.
# - A usage error on a line: exit 2 with FILE:LINE, nothing changed.
# - flush at the top replaces the configuration: networks not in the file
#   are gone; a network added again identically keeps its sessions (they
#   still carry traffic, and sessions_deleted does not count them); one
#   added again with another external address loses the sessions on the
#   old one.
#
#   client1 198.18.0.2 (lan1) \
#                              router (ext0 203.0.113.1, .5) --- server .2
#   client2 198.18.0.6 (lan2) /

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss
require_module

tmp=
cleanup() {
	bg_kill "${BG_PIDS[@]}"
	wait 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
	knat_cleanup
}
trap cleanup EXIT

tmp=$(mktemp -d /tmp/knat-ctl-apply.XXXXXX) || exit $ksft_fail

setup_nat_topology || skip_test "cannot build the topology"
# A second external address of the router, for lan2's new external side.
ip -n "$ROUTER" addr add 203.0.113.5/32 dev ext0

# expect_exit MSG CODE REGEX CMD...: CMD exits CODE and its stderr
# matches REGEX (extended).
expect_exit() {
	local msg=$1 code=$2 re=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		fail "$msg (exit $rc, expected $code: $err)"
	elif ! grep -Eq -- "$re" <<<"$err"; then
		fail "$msg (stderr does not match /$re/: $err)"
	else
		ok "$msg"
	fi
}

# apply_stdin TEXT: natctl -f - with TEXT on standard input.
apply_stdin() {
	printf '%s' "$1" | natctl -n "$ROUTER" -f -
}

# The server answers with the source it sees.
# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
busywait 30000 sh -c "ip netns exec $SERVER ss -lun | grep -q '203.0.113.2:9000 '" ||
	{ fail "the server did not start"; exit $ret; }

# udp_from NS SPORT: a datagram from port SPORT of NS to the server, which
# answers with what it saw; that answer (waited for up to 10 s).
udp_from() {
	ip netns exec "$1" socat -t 0.1 -T 10 \
		UDP:203.0.113.2:9000,sourceport="$2" \
		SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1
}

# The networks as network show -j has them, without ids, session counts
# and max_sessions (its default depends on the memory).
view='sort_by(.name) | map({name, internal, external_dev, external, ports,
	filtering, host_max_sessions, udp_inbound_refresh, timeouts})'
networks() {
	natctl -n "$ROUTER" -j network show | jq -S -c "$view"
}

# --- A file with three networks, comments and blank lines ---
# (timeout udp 1200 in lan1 and lan2: their sessions outlive the test,
# however slow)
cat >"$tmp/three.conf" <<'EOF'
# three networks, with options
flush

network add lan1 internal 198.18.0.0/30 external dev ext0 timeout udp 1200
network add lan2 internal 198.18.0.4/30 external 203.0.113.1 ports 20000-29999 filtering endpoint-independent host-max-sessions 50 timeout udp 1200	# a comment
   network add lab internal 198.18.1.0/24 external 203.0.113.10,203.0.113.11 max-sessions 1000 udp-inbound-refresh on filtering address-port-dependent timeout icmp 30
EOF
check "natctl -f: three networks" natctl -n "$ROUTER" -f "$tmp/three.conf"

expected=$(jq -S -c . <<'EOF'
[{"name":"lab","internal":"198.18.1.0/24","external_dev":null,
  "external":["203.0.113.10","203.0.113.11"],"ports":"default",
  "filtering":"address-port-dependent","host_max_sessions":0,
  "udp_inbound_refresh":true,
  "timeouts":{"tcp_established":7440,"tcp_transitory":240,"udp":300,"icmp":30,"tcp_syn":30,"other":600}},
 {"name":"lan1","internal":"198.18.0.0/30","external_dev":"ext0",
  "external":["203.0.113.1"],"ports":"default",
  "filtering":"address-dependent","host_max_sessions":0,
  "udp_inbound_refresh":false,
  "timeouts":{"tcp_established":7440,"tcp_transitory":240,"udp":1200,"icmp":60,"tcp_syn":30,"other":600}},
 {"name":"lan2","internal":"198.18.0.4/30","external_dev":null,
  "external":["203.0.113.1"],"ports":{"min":20000,"max":29999},
  "filtering":"endpoint-independent","host_max_sessions":50,
  "udp_inbound_refresh":false,
  "timeouts":{"tcp_established":7440,"tcp_transitory":240,"udp":1200,"icmp":60,"tcp_syn":30,"other":600}}]
EOF
)
check_eq "network show -j: the three networks as the file says" \
	"$expected" "$(networks)"
check_eq "network show -j: lab's max-sessions" "1000" \
	"$(natctl -n "$ROUTER" -j network show lab | jq '.[0].max_sessions')"
check_match "network show: lan2 in text" \
	'^lan2: internal 198\.18\.0\.4/30 external 203\.0\.113\.1 ports 20000-29999 filtering endpoint-independent$' \
	"$(natctl -n "$ROUTER" network show)"

# -f -: standard input.
check "natctl -f -: a change from standard input" \
	apply_stdin $'network set lab timeout tcp-transitory 100\n'
check_eq "natctl -f -: applied" "100" \
	"$(natctl -n "$ROUTER" -j network show lab | jq '.[0].timeouts.tcp_transitory')"

# --- Live traffic, one flow per network ---
seen1=$(udp_from "$CLIENT1" 20001)
seen2=$(udp_from "$CLIENT2" 20002)
check_match "client1's flow goes out through lan1" '^203\.0\.113\.1:[0-9]+$' \
	"$seen1"
check_match "client2's flow goes out through lan2" '^203\.0\.113\.1:[0-9]+$' \
	"$seen2"
check_eq "two sessions" "2" "$(counter "$ROUTER" sessions_active)"

# The whole observable state: networks, sessions (without their
# countdown), counters.
snapshot() {	# PREFIX
	natctl -n "$ROUTER" -j network show >"$1.net" &&
	natctl -n "$ROUTER" network show >"$1.txt" &&
	natctl -n "$ROUTER" -j session show |
		jq -S -c 'map(del(.expires)) | sort_by(.proto, .internal, .remote)' \
		>"$1.sessions" &&
	natctl -n "$ROUTER" -j stats >"$1.stats"
}

# unchanged MSG: the state is that of snapshot "before".
unchanged() {
	snapshot "$tmp/after" || { fail "$1: cannot read the state"; return; }
	check_eq "$1: network show -j as before" \
		"$(cat "$tmp/before.net")" "$(cat "$tmp/after.net")"
	check_eq "$1: network show as before" \
		"$(cat "$tmp/before.txt")" "$(cat "$tmp/after.txt")"
	check_eq "$1: session show -j as before" \
		"$(cat "$tmp/before.sessions")" "$(cat "$tmp/after.sessions")"
	check_eq "$1: stats -j as before" \
		"$(cat "$tmp/before.stats")" "$(cat "$tmp/after.stats")"
}

snapshot "$tmp/before" || { fail "cannot read the state"; exit $ret; }
check_eq "the snapshot has both sessions" "2" \
	"$(jq length "$tmp/before.sessions")"

# --- The kernel refuses the last line: nothing changes ---
cat >"$tmp/overlap.conf" <<'EOF'
network set lan1 timeout udp 30
network delete lan2
network add new1 internal 198.18.2.0/24 external 203.0.113.1
network set lab external 203.0.113.12
network add bad internal 198.18.0.0/29 external 203.0.113.1
EOF
expect_exit "last line overlaps lan1: exit 1, FILE:5" 1 \
	"^natctl: $tmp/overlap\.conf:5: .*overlaps network lan1" \
	natctl -n "$ROUTER" -f "$tmp/overlap.conf"
unchanged "after the refused overlap"

# A flush, the networks again, then a name given twice (standard input).
expect_exit "last line adds lan1 twice: exit 1, <stdin>:5" 1 \
	'^natctl: <stdin>:5: .*network lan1 exists' \
	apply_stdin 'flush
network add lan1 internal 198.18.0.0/30 external 203.0.113.5
network add lan2 internal 198.18.0.4/30 external 203.0.113.5
# the same name again
network add lan1 internal 198.18.3.0/24 external 203.0.113.5
'
unchanged "after the refused duplicate"

# --- Usage errors: exit 2, FILE:LINE, nothing sent ---
cat >"$tmp/usage.conf" <<'EOF'
network set lan1 timeout udp 30
network add x internal 198.18.3.0/24 external 203.0.113.1 frobnicate 1
network delete lan2
EOF
expect_exit "unknown option on line 2: exit 2, FILE:2" 2 \
	"^natctl: $tmp/usage\.conf:2: .*frobnicate" \
	natctl -n "$ROUTER" -f "$tmp/usage.conf"
expect_exit "flush after a command: exit 2, <stdin>:2" 2 \
	"^natctl: <stdin>:2: .*flush" \
	apply_stdin $'network delete lab\nflush\n'
expect_exit "bad timeout on line 3: exit 2, <stdin>:3" 2 \
	"^natctl: <stdin>:3: " \
	apply_stdin $'flush\n\nnetwork add lan1 internal 198.18.0.0/30 external dev ext0 timeout udp 0\n'
unchanged "after the usage errors"

# The sessions still carry traffic, the same ones (no new session).
added=$(counter "$ROUTER" sessions_added)
check_eq "client1's flow: the same external endpoint" "$seen1" \
	"$(udp_from "$CLIENT1" 20001)"
check_eq "client2's flow: the same external endpoint" "$seen2" \
	"$(udp_from "$CLIENT2" 20002)"
check_eq "no session was created again" "$added" \
	"$(counter "$ROUTER" sessions_added)"

# --- flush at the top replaces the configuration ---
id1=$(natctl -n "$ROUTER" -j network show lan1 | jq '.[0].id')
id2=$(natctl -n "$ROUTER" -j network show lan2 | jq '.[0].id')
added1=$(counter "$ROUTER" sessions_added lan1)
deleted1=$(counter "$ROUTER" sessions_deleted lan1)
deleted2=$(counter "$ROUTER" sessions_deleted lan2)
deleted=$(counter "$ROUTER" sessions_deleted)
session1=$(natctl -n "$ROUTER" -j session show network lan1 |
	jq -c 'map(del(.expires, .state))')
check_eq "lan1 has one session before the flush" "1" \
	"$(jq length <<<"$session1")"

cat >"$tmp/replace.conf" <<'EOF'
flush
# lan1 exactly as it was; lan2 on another external address; no lab
network add lan1 internal 198.18.0.0/30 external dev ext0 timeout udp 1200
network add lan2 internal 198.18.0.4/30 external 203.0.113.5 ports 20000-29999 filtering endpoint-independent host-max-sessions 50 timeout udp 1200
EOF
check "flush and two networks" natctl -n "$ROUTER" -f "$tmp/replace.conf"
check_eq "only the networks of the file remain" '["lan1","lan2"]' \
	"$(natctl -n "$ROUTER" -j network show | jq -c 'map(.name) | sort')"
check_fail "lab is gone" natctl -n "$ROUTER" network show lab
check_eq "lan2's new external address" '["203.0.113.5"]' \
	"$(natctl -n "$ROUTER" -j network show lan2 | jq -c '.[0].external')"
check_eq "lan1 is the same network (its id)" "$id1" \
	"$(natctl -n "$ROUTER" -j network show lan1 | jq '.[0].id')"
check_eq "lan2 is the same network (its id)" "$id2" \
	"$(natctl -n "$ROUTER" -j network show lan2 | jq '.[0].id')"

check_eq "lan1 kept its session" "$session1" \
	"$(natctl -n "$ROUTER" -j session show network lan1 |
	   jq -c 'map(del(.expires, .state))')"
check_eq "lan1's session is not counted as deleted" "$deleted1" \
	"$(counter "$ROUTER" sessions_deleted lan1)"
check_eq "lan2 lost its session on the old address" "[]" \
	"$(natctl -n "$ROUTER" -j session show network lan2 | jq -c .)"
check_eq "lan2 counts it as deleted" "$((deleted2 + 1))" \
	"$(counter "$ROUTER" sessions_deleted lan2)"
check_eq "one session deleted in all" "$((deleted + 1))" \
	"$(counter "$ROUTER" sessions_deleted)"

check_eq "client1's flow still uses its session" "$seen1" \
	"$(udp_from "$CLIENT1" 20001)"
check_eq "lan1 created no session for it" "$added1" \
	"$(counter "$ROUTER" sessions_added lan1)"
check_match "client2's flow now leaves from 203.0.113.5" \
	'^203\.0\.113\.5:[0-9]+$' "$(udp_from "$CLIENT2" 20002)"
check_eq "sessions now: lan1's and lan2's new one" "2" \
	"$(natctl -n "$ROUTER" -j session show | jq length)"

exit $ret
