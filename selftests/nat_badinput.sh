#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad configuration is refused, clearly, and changes nothing.
#
#   router namespace: ext0 203.0.113.1/24
#     net0  internal 198.18.0.0/24  external dev ext0
#     net1  internal 198.19.0.0/24  external 192.0.2.1,192.0.2.2
#
# natctl's usage errors exit 2 and the message names the offending word;
# the kernel's refusals (overlapping prefixes, an external address inside
# an internal prefix, a taken name, an unknown network or interface) exit 1
# with a message that says why (naming the other network where there is
# one).  After every failure, `natctl -j network show` is unchanged.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq
require_module
trap nat_cleanup EXIT

setup_ns R || skip_test "cannot create a namespace"
ip -n "$R" link add ext0 type veth peer name ext0p || skip_test "no veth"
ip -n "$R" addr add 203.0.113.1/24 dev ext0
ip -n "$R" link set ext0 up

check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 timeout udp 100
check "network add net1" natctl -n "$R" network add net1 \
	internal 198.19.0.0/24 external 192.0.2.1,192.0.2.2 \
	ports 20000-30000 filtering endpoint-independent
before=$(natctl -n "$R" -j network show)
check_eq "two networks" 2 "$(jq length <<<"$before")"

# refused MSG CODE REGEX ARGS...: `natctl -n R ARGS` exits CODE, its
# message matches REGEX, and the networks are as before.
refused() {
	local msg=$1 code=$2 re=$3 err rc after
	shift 3
	err=$(natctl -n "$R" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		fail "$msg: exit $rc, expected $code ($err)"
	elif ! grep -Eq -- "$re" <<<"$err"; then
		fail "$msg: message does not match /$re/: $err"
	else
		ok "$msg"
	fi
	after=$(natctl -n "$R" -j network show)
	[ "$after" = "$before" ] ||
		fail "$msg: the networks changed: $before -> $after"
}

add() {
	refused "$1" "$2" "$3" network add "${@:4}"
}

log "usage errors: exit 2, naming the word"
add "prefix without a length" 2 "'198\.20\.0\.0'" \
	n2 internal 198.20.0.0 external 192.0.2.9
add "malformed prefix" 2 "'198\.20\.0/24'" \
	n2 internal 198.20.0/24 external 192.0.2.9
add "prefix length 33" 2 "'198\.20\.0\.0/33'" \
	n2 internal 198.20.0.0/33 external 192.0.2.9
add "prefix length 0" 2 "'198\.20\.0\.0/0'" \
	n2 internal 198.20.0.0/0 external 192.0.2.9
add "host bits set" 2 "198\.20\.0\.1/24.*198\.20\.0\.0/24" \
	n2 internal 198.20.0.1/24 external 192.0.2.9
add "bad external address" 2 "'192\.0\.2\.300'" \
	n2 internal 198.20.0.0/24 external 192.0.2.300
add "bad address in a pool" 2 "'192\.0\.2\.x'" \
	n2 internal 198.20.0.0/24 external 192.0.2.8,192.0.2.x
add "duplicate address in a pool" 2 "192\.0\.2\.8" \
	n2 internal 198.20.0.0/24 external 192.0.2.8,192.0.2.8
add "17 addresses in a pool" 2 "at most 16" \
	n2 internal 198.20.0.0/24 external \
	"$(seq -s, -f '192.0.2.%g' 10 26)"
add "port range reversed" 2 "'3000-2000'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 ports 3000-2000
add "port above 65535" 2 "'1024-65536'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 ports 1024-65536
add "port 0" 2 "'0-1000'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 ports 0-1000
add "port range without a dash" 2 "'2000'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 ports 2000
add "unknown filtering" 2 "'full-cone'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 filtering full-cone
add "timeout 0" 2 "'0'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 timeout udp 0
add "timeout above 2592000" 2 "'2592001'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 timeout icmp 2592001
add "unknown timeout" 2 "'tcp'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 timeout tcp 10
add "timeout not a number" 2 "'10s'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 timeout udp 10s
add "max-sessions 0" 2 "'0'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 max-sessions 0
add "negative host-max-sessions" 2 "'-1'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 host-max-sessions -1
add "udp-inbound-refresh maybe" 2 "'maybe'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 udp-inbound-refresh maybe
add "unknown option" 2 "'bogus'" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 bogus 1
add "option given twice" 2 "filtering" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 \
	filtering endpoint-independent filtering address-dependent
add "name too long" 2 "'abcdefghijklmnop'" \
	abcdefghijklmnop internal 198.20.0.0/24 external 192.0.2.9
add "name with a slash" 2 "'a/b'" \
	a/b internal 198.20.0.0/24 external 192.0.2.9
add "no internal" 2 "internal" n2 external 192.0.2.9
add "no external" 2 "external" n2 internal 198.20.0.0/24
add "missing value" 2 "max-sessions" \
	n2 internal 198.20.0.0/24 external 192.0.2.9 max-sessions
refused "set: internal cannot change" 2 "internal" \
	network set net0 internal 198.20.0.0/24
refused "set: nothing to change" 2 "net0" network set net0
refused "set: unknown filtering" 2 "'none'" network set net0 filtering none
refused "del: extra word" 2 "'extra'" network del net0 extra
refused "session show: unknown proto" 2 "'sctp'" session show proto sctp
refused "unknown network verb" 2 "'frob'" network frob

log "kernel refusals: exit 1, saying why"
add "prefix overlapping net0's" 1 "overlaps network net0" \
	n2 internal 198.18.0.0/16 external 192.0.2.9
add "prefix inside net0's" 1 "overlaps network net0" \
	n2 internal 198.18.0.128/25 external 192.0.2.9
add "external address inside its own prefix" 1 \
	"198\.20\.0\.9 is inside the internal prefix" \
	n2 internal 198.20.0.0/24 external 198.20.0.9
add "external address inside net0's prefix" 1 \
	"198\.18\.0\.9 .*network net0" \
	n2 internal 198.20.0.0/24 external 198.18.0.9
add "prefix containing net1's external address" 1 "192\.0\.2\.1.*net1" \
	n2 internal 192.0.2.0/24 external 203.0.113.9
add "duplicate name" 1 "net0.*exists" \
	net0 internal 198.20.0.0/24 external 192.0.2.9
add "interface that does not exist" 1 "nosuch0" \
	n2 internal 198.20.0.0/24 external dev nosuch0
refused "set: interface that does not exist" 1 "nosuch0" \
	network set net0 external dev nosuch0
refused "set: external address inside its own prefix" 1 \
	"198\.18\.0\.9 is inside the internal prefix" \
	network set net0 external 198.18.0.9
refused "set: external address inside net1's prefix" 1 \
	"198\.19\.0\.9 .*network net1" network set net0 external 198.19.0.9
refused "set: unknown network" 1 "no such network" \
	network set nosuch filtering endpoint-independent
refused "del: unknown network" 1 "no such network" network del nosuch
refused "show: unknown network" 1 "no such network" network show nosuch
refused "session show: unknown network" 1 "no such network" \
	session show network nosuch
refused "stats: unknown network" 1 "no such network" stats network nosuch

check_eq "networks as before" "$before" "$(natctl -n "$R" -j network show)"
check "a valid change still works" natctl -n "$R" network set net0 \
	filtering address-port-dependent

exit $ret
