#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module loads and unloads cleanly, and while loaded it has its
# netfilter hooks at PREROUTING and FORWARD in the initial namespace and in
# every new one.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd nft
require_module

# knat_hooks NETNS|"": the knat hook functions nft lists in that namespace.
knat_hooks() {
	local out
	if [ -n "$1" ]; then
		out=$(ip netns exec "$1" nft list hooks ip 2>&1)
	else
		out=$(nft list hooks ip 2>&1)
	fi
	printf '%s\n' "$out" | awk '
		/hook [a-z]+ \{/ { hook = $2 }
		/\[knat\]/ { print hook ":" $2 }' | sort | tr '\n' ' '
}

expected="forward:knat_forward output:knat_local_out prerouting:knat_prerouting "

# Listing hooks needs nfnetlink_hook, which Debian's 6.1 lacks: there the
# hook checks are left out, and the traffic tests show the hooks work.
can_list_hooks=true
if ! modprobe -q nfnetlink_hook &&
   ! grep -q nfnetlink_hook "/lib/modules/$(uname -r)/modules.builtin"; then
	log "this kernel cannot list hooks (no nfnetlink_hook): hooks not checked"
	can_list_hooks=false
fi

# check_hooks MSG EXPECTED NETNS|""
check_hooks() {
	$can_list_hooks || return 0
	check_eq "$1" "$2" "$(knat_hooks "$3")"
}

check "unload" knat_unload
check_fail "module is gone after rmmod" knat_loaded
check_hooks "no knat hooks without the module" "" ""

check "load" knat_load
check "module is in sysfs" test -d /sys/module/knat
check_hooks "hooks in the initial netns" "$expected" ""

setup_ns ns1
check_hooks "hooks in a namespace made after loading" "$expected" "$ns1"

if [ -n "${KNAT_MODULE:-}" ]; then
	check_fail "loading twice is refused" insmod "$KNAT_MODULE"
fi
check_eq "module not in use" "0" "$(cat /sys/module/knat/refcnt)"

check "unload with a namespace alive" knat_unload
check_hooks "no knat hooks in the namespace after unload" "" "$ns1"

check "load again" knat_load
check_hooks "hooks in the existing namespace after reload" "$expected" \
	"$ns1"

exit $ret
