#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run knat's selftests and report in KTAP, as the kselftest runner does.
#
#	run_tests.sh [TEST...]     (default: TEST_PROGS from the Makefile)
#
# Each test runs in its own process with a time limit (KSFT_TIMEOUT seconds,
# default 900).  When KNAT_MODULE names a knat.ko, it is loaded first.
# Exit status: 0 when no test failed, 1 otherwise.

cd "$(dirname "$0")" || exit 1
. ./lib.sh
trap - EXIT

timeout_s=${KSFT_TIMEOUT:-900}

if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046
	set -- $(make -s --no-print-directory print-tests)
fi

echo "TAP version 13"
echo "1..$#"

if [ "$(id -u)" -ne 0 ]; then
	echo "# not root: every test is skipped"
fi
if [ -n "${KNAT_MODULE:-}" ] && ! knat_loaded; then
	knat_load 2>&1 | sed 's/^/# /'
fi

n=0 pass=0 fail=0 skip=0
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: knat: $t"
	if [ "$(id -u)" -ne 0 ]; then
		rc=$ksft_skip
	else
		timeout --foreground -k 10 "$timeout_s" "./$t" 2>&1 |
			sed -u 's/^/# /'
		rc=${PIPESTATUS[0]}
	fi
	case $rc in
	0)
		pass=$((pass + 1))
		echo "ok $n selftests: knat: $t"
		;;
	"$ksft_skip")
		skip=$((skip + 1))
		echo "ok $n selftests: knat: $t # SKIP"
		;;
	124)
		fail=$((fail + 1))
		echo "not ok $n selftests: knat: $t # TIMEOUT ${timeout_s} seconds"
		;;
	*)
		fail=$((fail + 1))
		echo "not ok $n selftests: knat: $t # exit=$rc"
		;;
	esac
done

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
