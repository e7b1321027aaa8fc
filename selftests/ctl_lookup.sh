#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl lookup: for a real TCP connection, a UDP flow and a ping, the
# lookup from the inside (internal source, remote destination) and from
# the outside (remote source, external destination) both find the session
# (its internal, external and remote ends, as the server saw them and as
# session show lists them) and say which side the flow was on, in text
# and in JSON.  A flow that has no session: exit 1 and a clear message.
#
#   client1 198.18.0.2, client2 198.18.0.6 (net0, external dev ext0)
#     --- router 203.0.113.1 --- server 203.0.113.2, .3

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss ping
require_module

pids=()
tmp=
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	bg_kill "${BG_PIDS[@]}"
	wait 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
	knat_cleanup
}
trap cleanup EXIT

tmp=$(mktemp -d /tmp/knat-ctl-lookup.XXXXXX) || exit $ksft_fail

setup_nat_topology || skip_test "cannot build the topology"
# timeout udp 3600, icmp 600: the sessions outlive the test, however slow.
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 timeout udp 3600 timeout icmp 600 ||
	{ fail "network add"; exit $ret; }

# expect_exit MSG CODE REGEX CMD...: CMD exits CODE, prints nothing on
# standard output, and its stderr matches REGEX (extended).
expect_exit() {
	local msg=$1 code=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>"$tmp/stderr")
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		fail "$msg (exit $rc, expected $code: $(cat "$tmp/stderr"))"
	elif [ -n "$out" ]; then
		fail "$msg (printed: $out)"
	elif ! grep -Eq -- "$re" "$tmp/stderr"; then
		fail "$msg (stderr does not match /$re/: $(cat "$tmp/stderr"))"
	else
		ok "$msg"
	fi
}

# The servers answer with the source they see; the TCP one then keeps the
# connection open until the client closes it.
# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
ip netns exec "$SERVER" socat TCP-LISTEN:8080,bind=203.0.113.2,reuseaddr,fork \
	SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"; exec cat >/dev/null' &
pids+=($!)
busywait 30000 sh -c "ip netns exec $SERVER ss -lnu | grep -q '203.0.113.2:9000 ' &&
	ip netns exec $SERVER ss -lnt | grep -q '203.0.113.2:8080 '" ||
	{ fail "the servers did not start"; exit $ret; }

# TCP: a connection that stays established while the test runs.
ip netns exec "$CLIENT1" socat -u TCP:203.0.113.2:8080,sourceport=41000 \
	CREATE:"$tmp/tcp" &
pids+=($!)
# (socat creates the file once connected)
busywait 30000 grep -qs . "$tmp/tcp"
tcp_ext=$(cat "$tmp/tcp")
check_match "TCP: the server sees the external end" \
	'^203\.0\.113\.1:[0-9]+$' "$tcp_ext"
# UDP.
udp_ext=$(ip netns exec "$CLIENT1" socat -t 0.1 -T 10 \
	UDP:203.0.113.2:9000,sourceport=40000 \
	SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1)
check_match "UDP: the server sees the external end" \
	'^203\.0\.113\.1:[0-9]+$' "$udp_ext"
# ICMP echo, identifier 3333.
check "ping through the NAT" \
	ip netns exec "$CLIENT2" ping -q -c 1 -W 5 -e 3333 203.0.113.3

# The sessions as session show -j lists them:
# "NETWORK PROTO INTERNAL EXTERNAL REMOTE STATE", one a line.
fields='"\(.network) \(.proto) \(.internal) \(.external) \(.remote) \(.state)"'
listed=$(natctl -n "$ROUTER" -j session show | jq -r ".[] | $fields")
tcp_s=$(grep '^net0 tcp 198\.18\.0\.2:41000 ' <<<"$listed")
udp_s=$(grep '^net0 udp 198\.18\.0\.2:40000 ' <<<"$listed")
icmp_s=$(grep '^net0 icmp 198\.18\.0\.6:3333 ' <<<"$listed")
check_eq "session show: the TCP session" \
	"net0 tcp 198.18.0.2:41000 $tcp_ext 203.0.113.2:8080 established" "$tcp_s"
check_eq "session show: the UDP session" \
	"net0 udp 198.18.0.2:40000 $udp_ext 203.0.113.2:9000 active" "$udp_s"
check_match "session show: the ICMP session" \
	'^net0 icmp 198\.18\.0\.6:3333 203\.0\.113\.1:[0-9]+ 203\.0\.113\.3:0 active$' \
	"$icmp_s"
read -r _ _ _ icmp_ext _ <<<"$icmp_s"

# lookup MSG SESSION SIDE PROTO SRC DST: natctl lookup PROTO SRC DST finds
# SESSION (a line of $listed), seen from SIDE; the text now, the JSON in
# lookup_verify.
lk_msg=() lk_want=() lk_json=()
lookup() {
	local msg=$1 session=$2 side=$3 net proto int ext rem
	shift 3
	read -r net proto int ext rem _ <<<"$session"
	check_eq "$msg (text)" \
		"$proto $int -> $ext -> $rem (network $net, $side)" \
		"$(natctl -n "$ROUTER" lookup "$@")"
	lk_msg+=("$msg")
	lk_want+=("$session $side")
	lk_json+=("$(natctl -n "$ROUTER" -j lookup "$@")")
}
lookup_verify() {
	local -a got=()
	local i
	mapfile -t got < <(printf '%s\n' "${lk_json[@]}" |
		jq -r -c "$fields + \" \" + .side")
	for i in "${!lk_msg[@]}"; do
		check_eq "${lk_msg[i]} (JSON)" "${lk_want[i]}" "${got[i]-missing}"
	done
}

lookup "TCP from the inside" "$tcp_s" inside \
	tcp 198.18.0.2:41000 203.0.113.2:8080
lookup "TCP from the outside" "$tcp_s" outside \
	tcp 203.0.113.2:8080 "$tcp_ext"
lookup "UDP from the inside" "$udp_s" inside \
	udp 198.18.0.2:40000 203.0.113.2:9000
lookup "UDP from the outside" "$udp_s" outside \
	udp 203.0.113.2:9000 "$udp_ext"
lookup "ICMP from the inside" "$icmp_s" inside \
	icmp 198.18.0.6:3333 203.0.113.3:0
lookup "ICMP from the outside" "$icmp_s" outside \
	icmp 203.0.113.3:0 "$icmp_ext"
lookup_verify

# --- Flows without a session ---
expect_exit "no such flow: exit 1" 1 \
	'^natctl: no session for udp 198\.18\.0\.2:40001 -> 203\.0\.113\.2:9000$' \
	natctl -n "$ROUTER" lookup udp 198.18.0.2:40001 203.0.113.2:9000
expect_exit "no such flow, JSON: exit 1, no output" 1 \
	'^natctl: no session for udp 198\.18\.0\.2:40001 -> 203\.0\.113\.2:9000$' \
	natctl -n "$ROUTER" -j lookup udp 198.18.0.2:40001 203.0.113.2:9000
expect_exit "the UDP flow as TCP: exit 1" 1 '^natctl: no session for tcp ' \
	natctl -n "$ROUTER" lookup tcp 198.18.0.2:40000 203.0.113.2:9000
expect_exit "another remote port, from the outside: exit 1" 1 \
	'^natctl: no session for udp 203\.0\.113\.2:9001 -> ' \
	natctl -n "$ROUTER" lookup udp 203.0.113.2:9001 "$udp_ext"
expect_exit "external to remote is neither side: exit 1" 1 \
	'^natctl: no session for udp ' \
	natctl -n "$ROUTER" lookup udp "$udp_ext" 203.0.113.2:9000
expect_exit "a port is required: exit 2" 2 'natctl: ' \
	natctl -n "$ROUTER" lookup udp 198.18.0.2 203.0.113.2:9000

# Once flushed, the UDP session is not found; the others still are.
check "session flush proto udp" natctl -n "$ROUTER" session flush proto udp
expect_exit "flushed flow, from the inside: exit 1" 1 \
	'^natctl: no session for udp 198\.18\.0\.2:40000 -> 203\.0\.113\.2:9000$' \
	natctl -n "$ROUTER" lookup udp 198.18.0.2:40000 203.0.113.2:9000
expect_exit "flushed flow, from the outside: exit 1" 1 \
	'^natctl: no session for udp ' \
	natctl -n "$ROUTER" lookup udp 203.0.113.2:9000 "$udp_ext"
check "the TCP session is still found" \
	natctl -n "$ROUTER" lookup tcp 203.0.113.2:8080 "$tcp_ext"

exit $ret
