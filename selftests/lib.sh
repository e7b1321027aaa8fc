#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for knat's selftests.  Source it from a test:
#
#	. "$(dirname "$0")/lib.sh"
#
# A test runs as root, creates its own network namespaces (named with a
# per-run suffix so that tests never collide), and cleans them up on exit.
# Exit codes follow kselftest: 0 pass, 1 fail, 4 skip.
#
# Environment:
#   KNAT_MODULE  path of knat.ko; tests that load or unload the module use
#                it, or `modprobe knat` when it is unset
#   NATCTL       natctl binary (default: the one built in tools/natctl, else
#                natctl from PATH)

set -u

readonly ksft_pass=0
readonly ksft_fail=1
readonly ksft_skip=4

KSELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly KSELFTEST_DIR

if [ -z "${NATCTL:-}" ]; then
	if [ -x "$KSELFTEST_DIR/../tools/natctl/natctl" ]; then
		NATCTL=$KSELFTEST_DIR/../tools/natctl/natctl
	else
		NATCTL=natctl
	fi
fi

# The test's overall result: any failed check makes it fail.
ret=$ksft_pass

# Namespaces made by setup_ns, deleted by cleanup_all_ns.
NS_LIST=()

log() { echo "# $*"; }

# ok MSG / fail MSG: record one check.
ok() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; ret=$ksft_fail; }

skip_test() {
	echo "SKIP: $*"
	exit $ksft_skip
}

# check MSG CMD...: the command must succeed.
check() {
	local msg=$1; shift
	local out
	if out=$("$@" 2>&1); then
		ok "$msg"
	else
		fail "$msg (\`$*\` exited $?)"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check_fail MSG CMD...: the command must fail.
check_fail() {
	local msg=$1; shift
	if "$@" >/dev/null 2>&1; then
		fail "$msg (\`$*\` succeeded)"
	else
		ok "$msg"
	fi
}

# check_eq MSG EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1 (expected '$2', got '$3')"
	fi
}

# check_match MSG REGEX TEXT: TEXT must match the extended regex.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1 (no match for /$2/ in: $3)"
	fi
}

# busywait TIMEOUT_MS CMD...: poll CMD until it succeeds or time runs out.
busywait() {
	local timeout_ms=$1; shift
	local start now
	start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$timeout_ms" ] && return 1
		sleep 0.1
	done
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_test "must run as root"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_test "'$c' is not installed"
	done
}

# setup_ns VAR...: create one namespace per VAR with a unique name, store
# the name in VAR, bring up its loopback.
setup_ns() {
	local var name
	for var in "$@"; do
		name="${var}-$$-${RANDOM}"
		ip netns add "$name" || return 1
		ip -n "$name" link set lo up || return 1
		NS_LIST+=("$name")
		eval "$var=\$name"
	done
}

cleanup_all_ns() {
	local ns
	for ns in "${NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NS_LIST=()
}

knat_loaded() {
	[ -d /sys/module/knat ]
}

knat_load() {
	knat_loaded && return 0
	if [ -n "${KNAT_MODULE:-}" ]; then
		# Its dependencies (nf_defrag_ipv4) come from the running kernel.
		local deps
		deps=$(modinfo -F depends "$KNAT_MODULE" | tr , ' ')
		[ -z "$deps" ] || modprobe -a $deps || return 1
		insmod "$KNAT_MODULE"
	else
		modprobe knat
	fi
}

knat_unload() {
	knat_loaded || return 0
	rmmod knat
}

# Tests that unload the module call this first: it must be loadable again.
require_module() {
	if ! knat_loaded && [ -z "${KNAT_MODULE:-}" ] &&
	   ! modinfo knat >/dev/null 2>&1; then
		skip_test "knat is not loaded and KNAT_MODULE is not set"
	fi
	knat_load || skip_test "cannot load knat"
}

natctl() {
	"$NATCTL" "$@"
}

# setup_nat_topology: the standard NAT test network.
#
#   client1 198.18.0.2/30 --- 198.18.0.1 int1 \
#                                             router --- ext0 203.0.113.1/24
#   client2 198.18.0.6/30 --- 198.18.0.5 int2 /                 |
#                                         server 203.0.113.2/24, .3, .4 (eth0)
#
# Sets CLIENT1 CLIENT2 ROUTER SERVER (namespace names).  The server has no
# route back to 198.18.0.0/24: replies reach the clients only through NAT.
# No NAT network is configured.
setup_nat_topology() {
	setup_ns CLIENT1 CLIENT2 ROUTER SERVER || return 1
	ip link add int1 netns "$ROUTER" type veth peer name eth0 \
		netns "$CLIENT1" || return 1
	ip link add int2 netns "$ROUTER" type veth peer name eth0 \
		netns "$CLIENT2" || return 1
	ip link add ext0 netns "$ROUTER" type veth peer name eth0 \
		netns "$SERVER" || return 1

	ip -n "$CLIENT1" addr add 198.18.0.2/30 dev eth0
	ip -n "$CLIENT2" addr add 198.18.0.6/30 dev eth0
	ip -n "$ROUTER" addr add 198.18.0.1/30 dev int1
	ip -n "$ROUTER" addr add 198.18.0.5/30 dev int2
	ip -n "$ROUTER" addr add 203.0.113.1/24 dev ext0
	ip -n "$SERVER" addr add 203.0.113.2/24 dev eth0
	ip -n "$SERVER" addr add 203.0.113.3/24 dev eth0
	ip -n "$SERVER" addr add 203.0.113.4/24 dev eth0

	local ns dev
	for ns in "$CLIENT1" "$CLIENT2" "$SERVER"; do
		ip -n "$ns" link set eth0 up
	done
	for dev in int1 int2 ext0; do
		ip -n "$ROUTER" link set "$dev" up
	done
	ip -n "$CLIENT1" route add default via 198.18.0.1
	ip -n "$CLIENT2" route add default via 198.18.0.5
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	# Wait for duplicate address detection-free links to be usable.
	busywait 5000 ip netns exec "$CLIENT1" ping -c 1 -W 1 198.18.0.1 \
		>/dev/null
}

# counter NS NAME [NETWORK]: one natctl counter, from JSON.
counter() {
	local ns=$1 name=$2 net=${3:-}
	if [ -n "$net" ]; then
		natctl -n "$ns" -j stats network "$net" |
			jq -r --arg n "$net" --arg c "$name" '.networks[$n][$c]'
	else
		natctl -n "$ns" -j stats | jq -r --arg c "$name" '.total[$c]'
	fi
}

knat_cleanup() {
	cleanup_all_ns
}
trap knat_cleanup EXIT
