#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static mappings: port mappings (one port, a range port for port, a range
# collapsed onto one port, one restricted to a remote prefix) and a 1:1
# mapping, reached from outside with real TCP, UDP and ping.
#
#   client1 198.18.0.2 ---\   router: net0 internal 198.18.0.0/24
#     :80 tcp, :6000-6002 udp   external dev ext0 (203.0.113.1, and
#   client2 198.18.0.6 ---/     203.0.113.50 for the 1:1 mapping) --- server
#     :7777 tcp                                               .2 .3 .4
#
#   map tcp 8080            -> 198.18.0.2:80
#   map udp 5000-5002       -> 198.18.0.2:6000-6002   (port for port)
#   map tcp 7000-7002       -> 198.18.0.6:7777        (collapsed)
#   map tcp 203.0.113.1:9090 -> 198.18.0.2:80 remote 203.0.113.2/32
#   map ip 203.0.113.50     -> 198.18.0.6             (later, 1:1)
#
# The network filters address-port-dependent: only the mappings let the
# server in.  The internal servers answer with the address and port they
# see (the server's own); nft counters on the server count the answers
# from 203.0.113.1 by source port, and any packet from 198.18.0.0/15 (an
# untranslated one: none).  Then: per-mapping counters, map show (JSON and
# text), conflicts and bad input refused with nothing changed, deleting a
# mapping ends its sessions, the 1:1 mapping both ways for ICMP, TCP, UDP
# and another protocol, natctl save and -f, and a dynamic port range
# exhausted around a mapped port that is never handed out.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat nft jq ping python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

# --- helpers ----------------------------------------------------------------

# (sorted: the order of a dump is not part of the protocol)
maps_json() {
	natctl -n "$R" -j map show "$@" | jq -c 'sort_by(.network, .proto,
		.external)'
}

# map_sel PROTO PORT|ADDR: a jq filter selecting one mapping of
# `map show -j`: a port mapping by its protocol and (first) external port,
# or (PROTO ip) a 1:1 mapping by its external address.
map_sel() {
	if [ "$1" = ip ]; then
		printf 'select(.proto == "ip" and (.external | tostring |
			test("^%s$")))' "${2//./\\\\.}"
	else
		printf 'select(.proto == "%s" and (.external | tostring |
			test("(^|:)%s(-[0-9]+)?$")))' "$1" "$2"
	fi
}

# map_get PROTO PORT|ADDR FIELD: FIELD of that mapping ("null" if none).
map_get() {
	maps_json | jq -r "[.[] | $(map_sel "$1" "$2")] | .[0].$3"
}

# map_count: how many mappings map show lists.
map_count() {
	maps_json | jq length
}

# tcp_from NS BINDADDR:PORT DST PORT: tcp_peer from a given source.
tcp_from() {
	local out
	out=$(ip netns exec "$1" timeout 20 socat -u -T 10 \
		"TCP:$3:$4,connect-timeout=5,bind=$2,reuseaddr" - \
		</dev/null 2>/dev/null) || return 1
	[ -n "$out" ] || return 1
	echo "${out// /:}"
}

# raw_send NS DST: one datagram of IP protocol 253 (experimental).
raw_send() {
	ip netns exec "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
s.sendto(b"knat-1to1", (sys.argv[1], 0))' "$2"
}

# line_count FILE
line_count() {
	wc -l <"$1"
}

# nft_at_least NS TABLE COUNTER N: the inet nft counter has N packets or
# more (for busywait).
nft_at_least() {
	local v
	v=$(nft_packets "$1" inet "$2" "$3")
	[ -n "$v" ] && [ "$v" -ge "$4" ]
}

# --- servers ------------------------------------------------------------------

tcp_peer_server "$CLIENT1" 80
for i in 0 1 2; do
	udp_server "$CLIENT1" 0.0.0.0 600$i peer "$LOG/c1-600$i"
done
tcp_peer_server "$CLIENT2" 7777
tcp_peer_server "$SERVER" 8080
udp_server "$SERVER" 203.0.113.2 9000 peer "$LOG/server"

server_watch "$SERVER"
ip netns exec "$SERVER" nft -f - <<-'NFT'
table inet mapwatch {
	counter r8080 { }
	counter r9090 { }
	counter r5000 { }
	counter r7000 { }
	counter echo50 { }
	counter p253 { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 203.0.113.1 tcp sport 8080 counter name r8080
		ip saddr 203.0.113.1 tcp sport 9090 counter name r9090
		ip saddr 203.0.113.1 udp sport 5000-5002 counter name r5000
		ip saddr 203.0.113.1 tcp sport 7000-7002 counter name r7000
		ip saddr 203.0.113.50 icmp type echo-request counter name echo50
		ip saddr 203.0.113.50 ip protocol 253 counter name p253
	}
}
NFT
ip netns exec "$CLIENT2" nft -f - <<-'NFT'
table inet watch {
	counter echo_in { }
	counter p253_in { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 203.0.113.2 icmp type echo-request counter name echo_in
		ip saddr 203.0.113.2 ip protocol 253 counter name p253_in
	}
}
NFT

# Long timeouts: sessions must outlive the test on a slow emulated CPU.
check "network add net0 (filtering address-port-dependent)" \
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
	external dev ext0 filtering address-port-dependent \
	timeout udp 1800 timeout tcp-transitory 1800

check_fail "without a mapping, the server cannot reach client1 via 8080" \
	tcp_peer "$SERVER" 203.0.113.1 8080
check_eq "map show: no mappings yet" 0 "$(map_count)"

# --- the mappings ---------------------------------------------------------------

check "map add tcp 8080 to 198.18.0.2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.2:80
check "map add udp 5000-5002 to 198.18.0.2:6000-6002" \
	natctl -n "$R" map add net0 udp 5000-5002 to 198.18.0.2:6000-6002
check "map add tcp 7000-7002 to 198.18.0.6:7777" \
	natctl -n "$R" map add net0 tcp 7000-7002 to 198.18.0.6:7777
check "map add tcp 203.0.113.1:9090 to 198.18.0.2:80 remote 203.0.113.2/32" \
	natctl -n "$R" map add net0 tcp 203.0.113.1:9090 to 198.18.0.2:80 \
	remote 203.0.113.2/32

shown=$(maps_json)
check_eq "map show -j: four mappings" 4 "$(jq length <<<"$shown")"
check_eq "map show -j: all of net0" "net0 net0 net0 net0" \
	"$(jq -r '[.[].network] | join(" ")' <<<"$shown")"
check_eq "map show -j: tcp 8080's internal end" "198.18.0.2:80" \
	"$(map_get tcp 8080 internal)"
check_eq "map show -j: udp 5000-5002's internal range" "198.18.0.2:6000-6002" \
	"$(map_get udp 5000 internal)"
check_eq "map show -j: tcp 7000-7002 collapsed onto 7777" "198.18.0.6:7777" \
	"$(map_get tcp 7000 internal)"
check_eq "map show -j: tcp 9090's remote prefix" "203.0.113.2/32" \
	"$(map_get tcp 9090 remote)"
check_eq "map show -j: counters start at 0" "0 0 0 0 0 0 0 0" \
	"$(jq -r '[.[] | .packets, .sessions] | join(" ")' <<<"$shown")"
check_eq "map show net0 -j: the same" "$shown" "$(maps_json net0)"

text=$(natctl -n "$R" map show)
check_eq "map show: one line per mapping" 4 "$(grep -c . <<<"$text")"
check_match "map show: tcp 8080" \
	'tcp +(203\.0\.113\.1:)?8080 .*198\.18\.0\.2:80( |$)' "$text"
check_match "map show: udp 5000-5002, port for port" \
	'udp +(203\.0\.113\.1:)?5000-5002 .*198\.18\.0\.2:6000-6002( |$)' "$text"
check_match "map show: tcp 7000-7002 collapsed" \
	'tcp +(203\.0\.113\.1:)?7000-7002 .*198\.18\.0\.6:7777( |$)' "$text"
check_match "map show: the remote prefix" \
	'tcp +203\.0\.113\.1:9090 .*198\.18\.0\.2:80 .*remote 203\.0\.113\.2/32' \
	"$text"

# --- traffic through them -------------------------------------------------------

log "tcp 8080 -> client1:80"
out=$(tcp_peer "$SERVER" 203.0.113.1 8080 41080)
check_eq "tcp 8080: client1's server sees the real remote" \
	"203.0.113.2:41080" "$out"
check "tcp 8080: the inbound session" has_session "$R" \
	'.proto == "tcp" and .internal == "198.18.0.2:80" and
	 .external == "203.0.113.1:8080" and .remote == "203.0.113.2:41080"'
check "tcp 8080: the answers came from 203.0.113.1:8080" \
	nft_at_least "$SERVER" mapwatch r8080 1

log "udp 5000-5002 -> client1:6000-6002, port for port"
for i in 0 1 2; do
	out=$(udp_client "$SERVER" -b "203.0.113.2:4150$i" -d "range$i" \
		"203.0.113.1:500$i")
	check_eq "udp 500$i: answered, the server seen as itself" \
		"203.0.113.2:4150$i" "$out"
done
for i in 0 1 2; do
	check_eq "udp 500$i reached port 600$i (and only it)" \
		"203.0.113.2:4150$i 6 range$i" "$(cat "$LOG/c1-600$i")"
	check "udp 500$i: the inbound session" has_session "$R" \
		".proto == \"udp\" and .internal == \"198.18.0.2:600$i\" and
		 .external == \"203.0.113.1:500$i\" and
		 .remote == \"203.0.113.2:4150$i\""
done
check_eq "udp: 3 answers from 203.0.113.1:5000-5002" 3 \
	"$(nft_packets "$SERVER" inet mapwatch r5000)"

log "tcp 7000-7002 -> client2:7777, collapsed"
for i in 0 1 2; do
	out=$(tcp_peer "$SERVER" 203.0.113.1 700$i 4170$i)
	check_eq "tcp 700$i reached client2:7777, the real remote seen" \
		"203.0.113.2:4170$i" "$out"
	check "tcp 700$i: the inbound session" has_session "$R" \
		".proto == \"tcp\" and .internal == \"198.18.0.6:7777\" and
		 .external == \"203.0.113.1:700$i\" and
		 .remote == \"203.0.113.2:4170$i\""
done
check "tcp 7000-7002: the answers came from 203.0.113.1:7000-7002" \
	nft_at_least "$SERVER" mapwatch r7000 3

log "tcp 9090 -> client1:80, remote 203.0.113.2/32 only"
out=$(tcp_from "$SERVER" 203.0.113.2:41090 203.0.113.1 9090)
check_eq "remote 203.0.113.2 may use 9090" "203.0.113.2:41090" "$out"
check_fail "remote 203.0.113.3 may not use 9090" \
	tcp_from "$SERVER" 203.0.113.3:41091 203.0.113.1 9090
check "no session for 203.0.113.3" no_session "$R" \
	'.remote | startswith("203.0.113.3:")'
check "tcp 9090: the answers came from 203.0.113.1:9090" \
	nft_at_least "$SERVER" mapwatch r9090 1

check_eq "nothing untranslated reached the server" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

log "per-mapping counters"
check_eq "tcp 8080: 1 session" 1 "$(map_get tcp 8080 sessions)"
p8080=$(map_get tcp 8080 packets)
check_match "tcp 8080: packets > 0" '^[1-9][0-9]*$' "$p8080"
check_eq "udp 5000-5002: 3 sessions, 6 packets" "3 6" \
	"$(map_get udp 5000 sessions) $(map_get udp 5000 packets)"
check_eq "tcp 7000-7002: 3 sessions" 3 "$(map_get tcp 7000 sessions)"
check_eq "tcp 9090: 1 session (203.0.113.3's attempt not counted)" 1 \
	"$(map_get tcp 9090 sessions)"
out=$(tcp_peer "$SERVER" 203.0.113.1 8080 41081)
check_eq "tcp 8080 again" "203.0.113.2:41081" "$out"
check_eq "tcp 8080: 2 sessions" 2 "$(map_get tcp 8080 sessions)"
check "tcp 8080: packets grew" \
	test "$(map_get tcp 8080 packets)" -gt "$p8080"
check_eq "udp 5000-5002: untouched by the TCP traffic" "3 6" \
	"$(map_get udp 5000 sessions) $(map_get udp 5000 packets)"

log "dynamic flows never get a mapped port"
out=$(udp_client "$CLIENT2" -b 0.0.0.0:5001 -d dyn 203.0.113.2:9000)
check_match "client2 from udp 5001: translated" '^203\.0\.113\.1:[0-9]+$' \
	"$out"
check "client2 from udp 5001: not given the mapped 5001" \
	test "${out#*:}" != 5001
out=$(tcp_peer "$CLIENT2" 203.0.113.2 8080 7001)
check_match "client2 from tcp 7001: translated" '^203\.0\.113\.1:[0-9]+$' \
	"$out"
check "client2 from tcp 7001: not given the mapped 7001" \
	test "${out#*:}" != 7001

# --- conflicts and bad input change nothing -------------------------------------

maps_before=$(maps_json)
nets_before=$(natctl -n "$R" -j network show)

# refused MSG CODES REGEX ARGS...: `natctl -n R ARGS` exits with one of
# CODES ("1", "2" or "1|2"), its message matches REGEX, and the mappings
# and networks are as before.
refused() {
	local msg=$1 codes=$2 re=$3 err rc
	shift 3
	err=$(natctl -n "$R" "$@" 2>&1 >/dev/null)
	rc=$?
	if ! [[ "$rc" =~ ^($codes)$ ]]; then
		fail "$msg: exit $rc, expected $codes ($err)"
	elif ! grep -Eq -- "$re" <<<"$err"; then
		fail "$msg: message does not match /$re/: $err"
	else
		ok "$msg"
	fi
	[ "$(maps_json)" = "$maps_before" ] ||
		fail "$msg: the mappings changed: $(maps_json)"
	[ "$(natctl -n "$R" -j network show)" = "$nets_before" ] ||
		fail "$msg: the networks changed"
}

log "conflicts: exit 1, naming the other mapping"
refused "tcp 8080 twice" 1 '8080' \
	map add net0 tcp 8080 to 198.18.0.6:80
refused "tcp 8080 twice, once with the address spelt out" 1 '8080' \
	map add net0 tcp 203.0.113.1:8080 to 198.18.0.6:80
refused "tcp 7001-7010 overlaps 7000-7002" 1 '7000' \
	map add net0 tcp 7001-7010 to 198.18.0.6:7001-7010
refused "udp 4990-5000 overlaps 5000-5002" 1 '5002' \
	map add net0 udp 4990-5000 to 198.18.0.6
refused "1:1 on the network's own external address" 1 '203\.0\.113\.1' \
	map add net0 ip 203.0.113.1 to 198.18.0.6

check "udp 8080 (another protocol) does not conflict with tcp 8080" \
	natctl -n "$R" map add net0 udp 8080 to 198.18.0.6:8080
check_eq "udp 8080 listed" 5 "$(map_count)"
check "map del udp 8080" natctl -n "$R" map del net0 udp 8080
check_eq "map show -j as before" "$maps_before" "$(maps_json)"

log "bad input: exit 2 (usage) or 1 (the kernel's refusal)"
refused "port 0" 2 . map add net0 tcp 0 to 198.18.0.2
refused "port 65536" 2 . map add net0 tcp 65536 to 198.18.0.2
refused "internal port 65536" 2 . map add net0 tcp 8090 to 198.18.0.2:65536
refused "a range reversed" 2 . map add net0 udp 5010-5005 to 198.18.0.2
refused "ranges of unequal length" 2 . \
	map add net0 udp 5010-5012 to 198.18.0.2:6010-6011
refused "an internal address outside the prefix" 1 . \
	map add net0 tcp 8090 to 198.19.0.2:80
refused "a malformed internal address" 2 . \
	map add net0 tcp 8090 to 198.18.0.300
refused "an unknown network" 1 . map add nosuch tcp 8090 to 198.18.0.2
refused "an unknown protocol" 2 . map add net0 sctp 8090 to 198.18.0.2
refused "no 'to'" 2 . map add net0 tcp 8090 198.18.0.2
refused "no internal address" 2 . map add net0 tcp 8090 to
refused "trailing words" 2 . map add net0 tcp 8090 to 198.18.0.2 extra
refused "ports on a 1:1 mapping (internal)" 2 . \
	map add net0 ip 203.0.113.60 to 198.18.0.2:80
refused "ports on a 1:1 mapping (external)" 2 . \
	map add net0 ip 203.0.113.60:80 to 198.18.0.2
refused "a remote prefix with host bits" 2 . \
	map add net0 tcp 8090 to 198.18.0.2 remote 203.0.113.2/24
refused "a remote prefix of length 33" 2 . \
	map add net0 tcp 8090 to 198.18.0.2 remote 203.0.113.2/33
refused "map del of no mapping" 1 . map del net0 tcp 8081
refused "map del of the wrong protocol" 1 . map del net0 udp 8080
refused "map del of a port inside a range" 1 . map del net0 udp 5001
refused "map del in an unknown network" 1 . map del nosuch tcp 8080
refused "map show of an unknown network" 1 . map show nosuch

# --- deleting a mapping ends its sessions ------------------------------------------

log "map del udp 5000-5002"
deleted=$(counter "$R" sessions_deleted net0)
check_eq "before: udp 5000-5002 has its 3 sessions" 3 "$(nat_sessions "$R" |
	jq '[.[] | select(.proto == "udp" and (.external |
	test(":500[0-2]$")))] | length')"
check "map del net0 udp 5000-5002" natctl -n "$R" map del net0 udp 5000-5002
check "after: its sessions are gone" no_session "$R" \
	'.proto == "udp" and (.external | test(":500[0-2]$"))'
check_eq "sessions_deleted counted 3" $((deleted + 3)) \
	"$(counter "$R" sessions_deleted net0)"
check "after: tcp 8080's sessions stay" has_session "$R" \
	'.internal == "198.18.0.2:80" and .external == "203.0.113.1:8080"'
check_fail "udp 5001 gets no answer" \
	udp_client "$SERVER" -b 203.0.113.2:41511 -t 2 203.0.113.1:5001
check_eq "client1's port 6001 got nothing new" 1 "$(line_count "$LOG/c1-6001")"
check_eq "map show: three mappings left" 3 "$(map_count)"

log "map del tcp 7000-7002"
deleted=$(counter "$R" sessions_deleted net0)
check "map del net0 tcp 7000-7002" natctl -n "$R" map del net0 tcp 7000-7002
check "after: its sessions are gone" no_session "$R" \
	'.internal == "198.18.0.6:7777"'
check_eq "sessions_deleted counted 3" $((deleted + 3)) \
	"$(counter "$R" sessions_deleted net0)"
check_fail "tcp 7001 is refused" tcp_peer "$SERVER" 203.0.113.1 7001 41711
check_eq "map show: two mappings left" 2 "$(map_count)"

# --- 1:1 ---------------------------------------------------------------------------

log "1:1: ip 203.0.113.50 -> client2"
ip -n "$R" addr add 203.0.113.50/32 dev ext0
check_fail "before the mapping, tcp to 203.0.113.50:7777 fails" \
	tcp_peer "$SERVER" 203.0.113.50 7777 41777
check "map add net0 ip 203.0.113.50 to 198.18.0.6" \
	natctl -n "$R" map add net0 ip 203.0.113.50 to 198.18.0.6
check_eq "map show -j: the 1:1 mapping" "198.18.0.6" \
	"$(map_get ip 203.0.113.50 internal)"
# Its packets all leave from 203.0.113.50: a port mapping of it on another
# address would answer from the wrong one, and the other way round.
maps_before=$(maps_json)
nets_before=$(natctl -n "$R" -j network show)
refused "a port mapping of a 1:1-mapped host" 1 \
	'198\.18\.0\.6 has a 1:1 and a port mapping' \
	map add net0 tcp 8095 to 198.18.0.6:80
refused "a 1:1 mapping of a host with a port mapping" 1 \
	'198\.18\.0\.2 has a 1:1 and a port mapping' \
	map add net0 ip 203.0.113.61 to 198.18.0.2
check_match "map show: the 1:1 mapping" \
	'ip +203\.0\.113\.50 .*198\.18\.0\.6( |$)' \
	"$(natctl -n "$R" map show)"

check "the server pings 203.0.113.50" \
	ip netns exec "$SERVER" ping -c 1 -W 5 203.0.113.50
check "client2 got the echo request from the real remote" \
	nft_at_least "$CLIENT2" watch echo_in 1
out=$(tcp_peer "$SERVER" 203.0.113.50 7777 41778)
check_eq "the server reaches client2:7777, seen as itself" \
	"203.0.113.2:41778" "$out"
check "protocol 253: the server sends to 203.0.113.50" \
	raw_send "$SERVER" 203.0.113.50
check "client2 got it from the real remote" \
	busywait 3000 nft_at_least "$CLIENT2" watch p253_in 1

check "client2 pings the server" \
	ip netns exec "$CLIENT2" ping -c 1 -W 5 203.0.113.2
check "the server got the echo request from 203.0.113.50" \
	nft_at_least "$SERVER" mapwatch echo50 1
out=$(tcp_peer "$CLIENT2" 203.0.113.2 8080 42080)
check_eq "client2's TCP leaves from 203.0.113.50, its port kept" \
	"203.0.113.50:42080" "$out"
out=$(udp_client "$CLIENT2" -b 0.0.0.0:42081 203.0.113.2:9000)
check_eq "client2's UDP leaves from 203.0.113.50, its port kept" \
	"203.0.113.50:42081" "$out"
check "protocol 253: client2 sends to the server" \
	raw_send "$CLIENT2" 203.0.113.2
check "the server got it from 203.0.113.50" \
	busywait 3000 nft_at_least "$SERVER" mapwatch p253 1
check "1:1 is stateless: no session for client2's flows" no_session "$R" \
	'.internal | startswith("198.18.0.6:4208")'
check_eq "1:1: no sessions counted" 0 "$(map_get ip 203.0.113.50 sessions)"
check_match "1:1: packets counted" '^[1-9][0-9]*$' \
	"$(map_get ip 203.0.113.50 packets)"
out=$(tcp_peer "$CLIENT1" 203.0.113.2 8080 42082)
check_match "client1 still leaves from 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$out"
check_eq "nothing untranslated reached the server" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

maps_before=$(maps_json)
nets_before=$(natctl -n "$R" -j network show)
refused "1:1 of 203.0.113.50 twice" 1 '203\.0\.113\.50' \
	map add net0 ip 203.0.113.50 to 198.18.0.3
refused "a second 1:1 for 198.18.0.6" 1 '198\.18\.0\.6|203\.0\.113\.50' \
	map add net0 ip 203.0.113.51 to 198.18.0.6

# --- natctl save, natctl -f ---------------------------------------------------------

log "save and -f"
check "save" sh -c "'$NATCTL' -n '$R' save >'$LOG/saved.conf'"
saved_maps=$(grep '^map ' "$LOG/saved.conf")
check_eq "saved: one 'map add' line per mapping" 3 \
	"$(grep -c '^map add net0 ' <<<"$saved_maps")"
check_match "saved: tcp 8080" \
	'^map add net0 tcp (203\.0\.113\.1:)?8080 to 198\.18\.0\.2:80$' \
	"$saved_maps"
check_match "saved: the remote prefix" \
	'^map add net0 tcp 203\.0\.113\.1:9090 to 198\.18\.0\.2:80 remote 203\.0\.113\.2/32$' \
	"$saved_maps"
check_match "saved: the 1:1 mapping" \
	'^map add net0 ip 203\.0\.113\.50 to 198\.18\.0\.6$' "$saved_maps"
check "saved: the maps come after their network" sh -c "
	awk '/^network add net0 /{ n = NR } /^map /{ if (!n) exit 1 }' \
	'$LOG/saved.conf'"

sessions=$(session_count "$R")
check "natctl -f of the saved file" natctl -n "$R" -f "$LOG/saved.conf"
check_eq "round trip: map show -j the same, counters kept" \
	"$maps_before" "$(maps_json)"
check_eq "round trip: the sessions kept" "$sessions" "$(session_count "$R")"
check "save again" sh -c "'$NATCTL' -n '$R' save >'$LOG/saved2.conf'"
check "saving again gives the same file" \
	cmp "$LOG/saved.conf" "$LOG/saved2.conf"
out=$(tcp_peer "$SERVER" 203.0.113.1 8080 41082)
check_eq "after the round trip, tcp 8080 still works" \
	"203.0.113.2:41082" "$out"

check "map del net0 tcp 8080" natctl -n "$R" map del net0 tcp 8080
check "natctl -f restores it" natctl -n "$R" -f "$LOG/saved.conf"
check_eq "restored: tcp 8080 back" "198.18.0.2:80" \
	"$(map_get tcp 8080 internal)"

# --- a mapped port in an exhausted dynamic range ----------------------------------

log "ports 20000-20010, a mapping on udp 20005, eleven flows"
check "network del net0" natctl -n "$R" network del net0
check_eq "its mappings went with it" 0 "$(map_count)"
check "network add net0 ports 20000-20010" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 ports 20000-20010 \
	timeout udp 1800
check "map add net0 udp 20005 to 198.18.0.2" \
	natctl -n "$R" map add net0 udp 20005 to 198.18.0.2
udp_server "$CLIENT1" 0.0.0.0 20005 peer "$LOG/c1-20005"

ports=()
for i in $(seq 31001 31011); do
	out=$(udp_client "$CLIENT2" -b "0.0.0.0:$i" -t 2 203.0.113.2:9000) &&
		ports+=("${out#*:}")
done
log "external ports handed out: ${ports[*]}"
check_eq "ten flows got a port, the eleventh none" 10 "${#ports[@]}"
check_eq "none of them is 20005" "" \
	"$(printf '%s\n' "${ports[@]}" | grep -x 20005)"
check_eq "all distinct, all in 20000-20010" 10 \
	"$(printf '%s\n' "${ports[@]}" |
		awk '$1 >= 20000 && $1 <= 20010' | sort -u | wc -l)"
check_eq "drop_no_port counted the eleventh" 1 \
	"$(counter "$R" drop_no_port net0)"
out=$(udp_client "$SERVER" -b 203.0.113.2:41205 203.0.113.1:20005)
check_eq "the mapping on 20005 still lets the server in" \
	"203.0.113.2:41205" "$out"

exit $ret
