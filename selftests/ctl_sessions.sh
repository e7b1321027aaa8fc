#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl session show and session flush with filters, over real flows:
# two clients in two networks, TCP, UDP and ICMP, two server addresses.
#
# - each filter (network, proto, internal ADDR[:PORT] or :PORT, external
#   ADDR[:PORT] or :PORT, remote ADDR[:PORT] or :PORT, and combinations)
#   selects exactly the right sessions, in text and in JSON;
# - session flush with a filter deletes exactly those: the others remain
#   and still carry their traffic (no new session), sessions_deleted grows
#   by the number deleted, in the total and per network;
# - an unknown network is an error.
#
#   client1 198.18.0.2 (net1, external dev ext0: 203.0.113.1) \
#                                      router --- server 203.0.113.2, .3
#   client2 198.18.0.6 (net2, external 203.0.113.5)          /

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss ping
require_module

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	bg_kill "${BG_PIDS[@]}"
	wait 2>/dev/null
	knat_cleanup
}
trap cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
ip -n "$ROUTER" addr add 203.0.113.5/32 dev ext0
# The UDP, closed TCP and ICMP sessions outlive the test, however slow (it
# took four minutes on a loaded emulated CPU: more than tcp-transitory's
# default 240 s).
to="timeout udp 3600 timeout tcp-transitory 3600 timeout icmp 3600"
# shellcheck disable=SC2086
natctl -n "$ROUTER" network add net1 internal 198.18.0.0/30 \
	external dev ext0 $to ||
	{ fail "network add net1"; exit $ret; }
# shellcheck disable=SC2086
natctl -n "$ROUTER" network add net2 internal 198.18.0.4/30 \
	external 203.0.113.5 $to ||
	{ fail "network add net2"; exit $ret; }

# UDP and TCP servers on each address, answering with the source they see.
# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
for a in 203.0.113.2 203.0.113.3; do
	udp_server "$SERVER" "$a" 9000 peer /dev/null
	ip netns exec "$SERVER" socat TCP-LISTEN:8080,bind=$a,reuseaddr,fork \
		SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
	pids+=($!)
done
servers_up() {
	local l
	l=$(ip netns exec "$SERVER" ss -lnu; ip netns exec "$SERVER" ss -lnt)
	for a in 203.0.113.2:9000 203.0.113.3:9000 203.0.113.2:8080 \
		 203.0.113.3:8080; do
		grep -q "$a " <<<"$l" || return 1
	done
}
busywait 30000 servers_up || { fail "the servers did not start"; exit $ret; }

# udp, tcp NS SPORT DST: a flow from port SPORT of NS to DST; the answer of
# the server, what it saw (waited for up to 10 s).
udp() {
	ip netns exec "$1" socat -t 0.1 -T 10 UDP:"$3":9000,sourceport="$2" \
		SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1
}
tcp() {
	ip netns exec "$1" socat -T 10 -u TCP:"$3":8080,sourceport="$2" -
}
ping_id() {	# NS ID DST
	ip netns exec "$1" ping -q -c 1 -W 5 -e "$2" "$3" >/dev/null
}

# The flows, as "PROTO INTERNAL REMOTE".
F1="udp 198.18.0.2:40001 203.0.113.2:9000"
F2="udp 198.18.0.2:40002 203.0.113.3:9000"
F3="tcp 198.18.0.2:41001 203.0.113.2:8080"
F4="icmp 198.18.0.2:1111 203.0.113.3:0"
F5="udp 198.18.0.6:40001 203.0.113.2:9000"
F6="tcp 198.18.0.6:41002 203.0.113.3:8080"
F7="icmp 198.18.0.6:2222 203.0.113.2:0"

seen1=$(udp "$CLIENT1" 40001 203.0.113.2)
check_match "F1: UDP from client1 to .2" '^203\.0\.113\.1:[0-9]+$' "$seen1"
check_match "F2: UDP from client1 to .3" '^203\.0\.113\.1:[0-9]+$' \
	"$(udp "$CLIENT1" 40002 203.0.113.3)"
check_match "F3: TCP from client1 to .2" '^203\.0\.113\.1:[0-9]+$' \
	"$(tcp "$CLIENT1" 41001 203.0.113.2)"
check "F4: ping from client1 to .3" ping_id "$CLIENT1" 1111 203.0.113.3
seen5=$(udp "$CLIENT2" 40001 203.0.113.2)
check_match "F5: UDP from client2 to .2" '^203\.0\.113\.5:[0-9]+$' "$seen5"
check_match "F6: TCP from client2 to .3" '^203\.0\.113\.5:[0-9]+$' \
	"$(tcp "$CLIENT2" 41002 203.0.113.3)"
check "F7: ping from client2 to .2" ping_id "$CLIENT2" 2222 203.0.113.2

# Under an emulated CPU every process costs: the text of session show is
# read by bash, the JSON of many listings by one jq (sel_verify).

# want KEY...: the keys, one a line.
want() {
	local IFS=$'\n'
	echo "$*"
}

# canon KEYS: KEYS (separated by newlines or ';') sorted, joined by ';'.
canon() {
	local -a a=()
	local i j t
	IFS=$'\n;' read -r -d '' -a a <<<"$1"
	for ((i = 1; i < ${#a[@]}; i++)); do
		t=${a[i]}
		for ((j = i - 1; j >= 0; j--)); do
			[[ ${a[j]} > $t ]] || break
			a[j + 1]=${a[j]}
		done
		a[j + 1]=$t
	done
	local IFS=';'
	echo "${a[*]}"
}

# sel MSG EXPECTED FILTER...: session show FILTER must list exactly
# EXPECTED (from want), in text (checked now) and in JSON (checked by the
# next sel_verify).
sel_msg=() sel_want=() sel_json=()
sel() {
	local msg=$1 expected=$2 text p i r keys=
	shift 2
	text=$(natctl -n "$ROUTER" session show "$@")
	while read -r p i _ _ _ r _; do
		[ -n "$p" ] && keys+="$p $i $r"$'\n'
	done <<<"$text"
	check_eq "$msg (text)" "$(canon "$expected")" "$(canon "$keys")"
	sel_msg+=("$msg")
	sel_want+=("$expected")
	sel_json+=("$(natctl -n "$ROUTER" -j session show "$@")")
}
sel_verify() {
	local -a got=()
	local i
	mapfile -t got < <(printf '%s\n' "${sel_json[@]}" |
		jq -r '[.[] | "\(.proto) \(.internal) \(.remote)"] | join(";")')
	for i in "${!sel_msg[@]}"; do
		check_eq "${sel_msg[i]} (JSON)" "$(canon "${sel_want[i]}")" \
			"$(canon "${got[i]-missing}")"
	done
	sel_msg=() sel_want=() sel_json=()
}

sel "all seven sessions" "$(want "$F1" "$F2" "$F3" "$F4" "$F5" "$F6" "$F7")"
sel "network net1" "$(want "$F1" "$F2" "$F3" "$F4")" network net1
sel "network net2" "$(want "$F5" "$F6" "$F7")" network net2
sel "proto udp" "$(want "$F1" "$F2" "$F5")" proto udp
sel "proto tcp" "$(want "$F3" "$F6")" proto tcp
sel "proto icmp" "$(want "$F4" "$F7")" proto icmp
sel "internal ADDR" "$(want "$F1" "$F2" "$F3" "$F4")" internal 198.18.0.2
sel "internal ADDR:PORT" "$(want "$F1")" internal 198.18.0.2:40001
sel "internal :PORT" "$(want "$F1" "$F5")" internal :40001
sel "internal ICMP identifier" "$(want "$F7")" internal 198.18.0.6:2222
sel "external ADDR" "$(want "$F5" "$F6" "$F7")" external 203.0.113.5
sel "external ADDR, other network" "$(want "$F1" "$F2" "$F3" "$F4")" \
	external 203.0.113.1
sel "external ADDR:PORT, proto udp" "$(want "$F5")" external "$seen5" proto udp
sel "remote ADDR" "$(want "$F2" "$F4" "$F6")" remote 203.0.113.3
sel "remote ADDR:PORT" "$(want "$F1" "$F5")" remote 203.0.113.2:9000
sel "remote :PORT" "$(want "$F3" "$F6")" remote :8080
sel "remote ADDR:0 (ICMP)" "$(want "$F4")" remote 203.0.113.3:0
sel "network, proto and remote" "$(want "$F5")" \
	network net2 proto udp remote 203.0.113.2
sel "internal, external and remote" "$(want "$F1")" \
	internal 198.18.0.2 external "$seen1" remote 203.0.113.2:9000
sel "a filter that matches nothing" "" remote 203.0.113.4
sel "filters that exclude each other" "" network net1 external 203.0.113.5

# external :PORT: every session whose external port is that of F5 (others
# may have it too, by chance).
port5=${seen5##*:}
same_port=$(natctl -n "$ROUTER" -j session show |
	jq -r --arg p ":$port5" '.[] | select(.external | endswith($p)) |
		"\(.proto) \(.internal) \(.remote)"')
check_match "F5 has external port $port5" "^$F5\$" "$same_port"
sel "external :PORT" "$same_port" external ":$port5"
sel_verify

check_fail "session show network nosuch fails" \
	natctl -n "$ROUTER" session show network nosuch
check_fail "session flush network nosuch fails" \
	natctl -n "$ROUTER" session flush network nosuch

# deleted_is MSG TOTAL NET1 NET2: sessions_deleted in all and per network.
deleted_is() {
	local got
	got=$(natctl -n "$ROUTER" -j stats | jq -r '[.total, .networks.net1,
		.networks.net2] | map(.sessions_deleted) | join(" ")')
	check_eq "$1: sessions_deleted in all, of net1, of net2" \
		"$2 $3 $4" "$got"
}
deleted_is "before any flush" 0 0 0

# --- Flush what goes to 203.0.113.3: F2, F4 and F6 ---
check "session flush remote 203.0.113.3" \
	natctl -n "$ROUTER" session flush remote 203.0.113.3
sel "after flushing remote .3" "$(want "$F1" "$F3" "$F5" "$F7")"
deleted_is "after flushing remote .3" 3 2 1
check_eq "sessions_active after flushing remote .3" "4" \
	"$(counter "$ROUTER" sessions_active)"

# The others still carry their traffic, on the same sessions.
added=$(counter "$ROUTER" sessions_added)
check_eq "F1 still uses its session" "$seen1" "$(udp "$CLIENT1" 40001 203.0.113.2)"
check_eq "F5 still uses its session" "$seen5" "$(udp "$CLIENT2" 40001 203.0.113.2)"
check "F7 still passes" ping_id "$CLIENT2" 2222 203.0.113.2
check_eq "no new session for F1, F5, F7" "$added" \
	"$(counter "$ROUTER" sessions_added)"
# A flushed flow starts a new session.
seen2=$(udp "$CLIENT1" 40002 203.0.113.3)
check_match "F2 again" '^203\.0\.113\.1:[0-9]+$' "$seen2"
check_eq "F2 has a new session" "$((added + 1))" \
	"$(counter "$ROUTER" sessions_added)"
sel "F2 is back" "$(want "$F1" "$F2" "$F3" "$F5" "$F7")"

# --- Flush net2's UDP: F5 ---
check "session flush network net2 proto udp" \
	natctl -n "$ROUTER" session flush network net2 proto udp
sel "after flushing net2's UDP" "$(want "$F1" "$F2" "$F3" "$F7")"
deleted_is "after flushing net2's UDP" 4 2 2

# --- Flush internal :40001: F1 only, now ---
check "session flush internal :40001" \
	natctl -n "$ROUTER" session flush internal :40001
sel "after flushing internal :40001" "$(want "$F2" "$F3" "$F7")"
deleted_is "after flushing internal :40001" 5 3 2

# --- A flush that matches nothing ---
check "session flush remote 203.0.113.4" \
	natctl -n "$ROUTER" session flush remote 203.0.113.4
sel "a flush of nothing deletes nothing" "$(want "$F2" "$F3" "$F7")"
deleted_is "after a flush of nothing" 5 3 2

# --- Flush the external address 203.0.113.5: F7 ---
check "session flush external 203.0.113.5" \
	natctl -n "$ROUTER" session flush external 203.0.113.5
sel "after flushing external .5" "$(want "$F2" "$F3")"
deleted_is "after flushing external .5" 6 3 3
check_eq "F2 still uses its session" "$seen2" \
	"$(udp "$CLIENT1" 40002 203.0.113.3)"

# --- Flush everything ---
check "session flush" natctl -n "$ROUTER" session flush
sel "no session left" ""
deleted_is "after flushing everything" 8 5 3
check_eq "sessions_active is 0" "0" "$(counter "$ROUTER" sessions_active)"
sel_verify

exit $ret
