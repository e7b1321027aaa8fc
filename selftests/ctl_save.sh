#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl save and natctl -f: "natctl save > f; natctl -f f" reapplies the
# configuration exactly, with networks that use every option (an
# interface, a pool, ports, each filtering mode, max-sessions,
# host-max-sessions, udp-inbound-refresh, each timeout, and settings
# changed with network set).
#
# - network show (-j and text) is the same after the round trip, but for
#   the session counts, and the live session stays;
# - saving again gives the same file;
# - the file restores the configuration after changes;
# - in a fresh namespace it reproduces the same networks (but for ids and
#   session counts), and saving there gives the same file.

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

tmp=$(mktemp -d /tmp/knat-ctl-save.XXXXXX) || exit $ksft_fail

setup_nat_topology || skip_test "cannot build the topology"

add() {	# NS ARGS...: natctl network add, a failed check if it fails
	local ns=$1; shift
	natctl -n "$ns" network add "$@" ||
		fail "network add $*"
}

# Every option, each filtering mode, each timeout.
add "$ROUTER" netA internal 198.18.0.0/30 external dev ext0 \
	ports 20000-20999 filtering endpoint-independent max-sessions 5000 \
	host-max-sessions 100 udp-inbound-refresh on \
	timeout tcp-established 3600
add "$ROUTER" netB internal 198.18.0.4/30 \
	external 203.0.113.5,203.0.113.6,203.0.113.7 \
	filtering address-port-dependent max-sessions 100 \
	timeout tcp-transitory 120 timeout udp 60 timeout icmp 10
add "$ROUTER" netC internal 198.18.1.0/24 external 203.0.113.8 \
	filtering address-dependent ports 1-65535 host-max-sessions 0 \
	udp-inbound-refresh off timeout tcp-established 2592000 timeout udp 1
add "$ROUTER" netD internal 198.18.2.0/25 external 203.0.113.9
# Settings changed after creation are saved too.
natctl -n "$ROUTER" network set netD ports 40000-40100 host-max-sessions 3 \
	external 203.0.113.10,203.0.113.9 timeout icmp 1 ||
	fail "network set netD"

# A live session in netA.
# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
busywait 30000 sh -c "ip netns exec $SERVER ss -lun | grep -q '203.0.113.2:9000 '" ||
	{ fail "the server did not start"; exit $ret; }
seen=$(ip netns exec "$CLIENT1" socat -t 0.1 -T 10 \
	UDP:203.0.113.2:9000,sourceport=20001 \
	SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1)
check_match "a flow through netA" '^203\.0\.113\.1:20[0-9]{3}$' "$seen"

# network show without the session counts (JSON), or their text.
shown_json() {	# NS [DEL]: network show -j without .sessions (and DEL)
	natctl -n "$1" -j network show |
		jq -S -c "sort_by(.name) | map(del(.sessions${2:+, $2}))"
}
shown_text() {
	natctl -n "$1" network show | sed 's/ sessions [0-9]*//'
}

check "save" sh -c "'$NATCTL' -n '$ROUTER' save >'$tmp/saved.conf'"
json0=$(shown_json "$ROUTER")
text0=$(shown_text "$ROUTER")
check_eq "network show -j has the four networks" '["netA","netB","netC","netD"]' \
	"$(jq -c 'map(.name)' <<<"$json0")"

# The file: a comment, flush, one network add per network.
check_match "saved: a comment first" '^# natctl save' \
	"$(sed -n 1p "$tmp/saved.conf")"
check_eq "saved: flush second" "flush" "$(sed -n 2p "$tmp/saved.conf")"
check_eq "saved: one 'network add' line per network, nothing else" \
	"netA netB netC netD" \
	"$(sed -n '3,$p' "$tmp/saved.conf" | awk '$1 == "network" && $2 == "add" { print $3; next } { print "?" }' |
	   sort | xargs)"
netC_line=$(grep '^network add netC ' "$tmp/saved.conf")
check_match "saved: netC's non-default settings" \
	' ports 1-65535 .*timeout tcp-established 2592000 timeout udp 1$' \
	"$netC_line"
check_eq "saved: netC's default settings left out" "" \
	"$(grep -oE 'filtering|host-max-sessions|udp-inbound-refresh|tcp-transitory|icmp' <<<"$netC_line")"
check_match "saved: netD as changed by network set" \
	' external 203\.0\.113\.10,203\.0\.113\.9 ports 40000-40100 .*host-max-sessions 3 timeout icmp 1$' \
	"$(grep '^network add netD ' "$tmp/saved.conf")"

# --- Round trip ---
check "natctl -f of the saved file" natctl -n "$ROUTER" -f "$tmp/saved.conf"
check_eq "round trip: network show -j is the same" "$json0" \
	"$(shown_json "$ROUTER")"
check_eq "round trip: network show is the same" "$text0" \
	"$(shown_text "$ROUTER")"
check_eq "round trip: netA kept its session" "1" \
	"$(natctl -n "$ROUTER" -j network show netA | jq '.[0].sessions')"
check "save again" sh -c "'$NATCTL' -n '$ROUTER' save >'$tmp/saved2.conf'"
check "saving again gives the same file" \
	cmp "$tmp/saved.conf" "$tmp/saved2.conf"

# --- Restore after changes ---
natctl -n "$ROUTER" network set netA timeout udp 77 filtering address-dependent ||
	fail "network set netA"
natctl -n "$ROUTER" network delete netD || fail "network delete netD"
add "$ROUTER" extra internal 198.18.3.0/24 external 203.0.113.11
check "changes made" test "$(shown_json "$ROUTER")" != "$json0"
check "natctl -f restores" natctl -n "$ROUTER" -f "$tmp/saved.conf"
check_eq "restored: network show -j as saved (ids aside)" \
	"$(jq -c 'map(del(.id))' <<<"$json0")" \
	"$(shown_json "$ROUTER" .id)"

# --- A fresh namespace, with an ext0 of its own ---
setup_ns FRESH || { fail "cannot create a namespace"; exit $ret; }
ip -n "$FRESH" link add ext0 type veth peer name ext0p
ip -n "$FRESH" addr add 203.0.113.1/24 dev ext0
ip -n "$FRESH" link set ext0 up
check_eq "the fresh namespace has no network" "[]" \
	"$(natctl -n "$FRESH" -j network show | jq -c .)"
check "natctl -f in the fresh namespace" \
	natctl -n "$FRESH" -f "$tmp/saved.conf"
check_eq "fresh namespace: network show -j as saved (ids aside)" \
	"$(jq -c 'map(del(.id))' <<<"$json0")" \
	"$(shown_json "$FRESH" .id)"
check_eq "fresh namespace: network show as saved" "$text0" \
	"$(shown_text "$FRESH")"
check "save in the fresh namespace" \
	sh -c "'$NATCTL' -n '$FRESH' save >'$tmp/fresh.conf'"
check "the fresh namespace saves the same file" \
	cmp "$tmp/saved.conf" "$tmp/fresh.conf"

exit $ret
