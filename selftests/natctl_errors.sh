#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# natctl's exit codes and messages: 0 ok, 1 failed (with the reason),
# 2 usage error (naming the offending word).

. "$(dirname "$0")/lib.sh"

require_root
require_module

# expect_exit MSG CODE REGEX CMD...: CMD exits CODE and its stderr matches.
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

check "--help" natctl --help
check_match "--version" '^natctl [0-9]+\.[0-9]+\.[0-9]+' "$(natctl --version)"
expect_exit "unknown command" 2 "bogus" natctl bogus
expect_exit "unknown option" 2 "--frobnicate" natctl --frobnicate info
expect_exit "missing netns argument" 2 "" natctl -n
expect_exit "netns that does not exist" 1 "nosuchns" \
	natctl -n nosuchns-$$ info

check "unload" knat_unload
if modinfo knat >/dev/null 2>&1; then
	# Installed: the kernel loads it on the family's first use.
	check "the family loads the module on demand" natctl info
	check "module loaded on demand" knat_loaded
else
	expect_exit "module not loaded" 1 "knat kernel module is not loaded" \
		natctl info
	expect_exit "module not loaded, JSON" 1 "not loaded" natctl -j info
	check "reload" knat_load
fi
check "natctl works again" natctl info

exit $ret
