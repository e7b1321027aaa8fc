#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fifty namespaces created and deleted with the module loaded: each gets its
# own knat state and hooks, and deleting them leaves the module working and
# unreferenced.

. "$(dirname "$0")/lib.sh"

require_root
require_module

count=${NETNS_CHURN_COUNT:-50}
answered=0

for i in $(seq "$count"); do
	setup_ns "churn$i" || { fail "creating namespace $i"; break; }
done
check_eq "namespaces created" "$count" "${#NS_LIST[@]}"

for ns in "${NS_LIST[@]}"; do
	natctl -n "$ns" info | grep -q 'networks 0$' && answered=$((answered + 1))
done
check_eq "the family answers in every namespace" "$count" "$answered"

cleanup_all_ns
busywait 30000 sh -c '! ip netns list | grep -q "^churn"'
check_eq "every namespace is gone" "0" "$(ip netns list | grep -c '^churn')"

check_match "the family still answers" 'networks 0$' "$(natctl info)"
check_eq "module not in use" "0" "$(cat /sys/module/knat/refcnt)"

exit $ret
