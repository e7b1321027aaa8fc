#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Netlink fuzzing: thousands of random, structured and mutated messages to
# the knat family (nl_fuzz.c), as root in a scratch namespace, as nobody in
# a user and network namespace of its own, as nobody in the namespace, and
# as nobody in a user namespace that does not own it.  After every message
# the module answers and the configuration is what it was unless a change
# was accepted from a privileged phase; at the end of those, a valid
# NETWORK_NEW, GET and DEL work.  The kernel log must stay clean (the VM
# fails the run on a splat).
#
# NL_FUZZ_COUNT messages per privileged phase (default 1000), NL_FUZZ_SEED
# to replay a run (the seed is in the log).  The binary is built on the host
# (make -C selftests); NL_FUZZ overrides its path.

. "$(dirname "$0")/lib.sh"

require_root
require_module
trap nat_cleanup EXIT

bin=${NL_FUZZ:-$KSELFTEST_DIR/../build/selftests/nl_fuzz}
[ -x "$bin" ] || skip_test "$bin is not built (make -C selftests)"

setup_ns FZ || skip_test "cannot create a namespace"
args=(-n "${NL_FUZZ_COUNT:-1000}")
[ -n "${NL_FUZZ_SEED:-}" ] && args+=(-s "$NL_FUZZ_SEED")
# The bug known_bug() in nl_fuzz.c describes (a policy dump that WARNed)
# is fixed: its messages are sent too.
args+=(-k)

ip netns exec "$FZ" "$bin" "${args[@]}"
rc=$?
case $rc in
0) ok "nl_fuzz: every phase" ;;
4) skip_test "nl_fuzz skipped" ;;
*) fail "nl_fuzz: exit $rc" ;;
esac

# The namespace the fuzz ran in still goes away cleanly, and a new one
# still gets a working family.
cleanup_all_ns
setup_ns FZ2 || fail "a namespace after the fuzz"
check "natctl in a new namespace" natctl -n "$FZ2" network add n0 \
	internal 198.18.0.0/24 external 192.0.2.1
check "natctl show" natctl -n "$FZ2" network show n0

exit $ret
