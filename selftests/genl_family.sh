#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The generic netlink family answers in the initial namespace and in new
# ones, to natctl and to iproute2's genl, in text and JSON, and the read-only
# command needs no privilege.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq
require_module

out=$(natctl info)
check_match "natctl info in the initial netns" \
	'^knat [0-9]+\.[0-9]+\.[0-9]+ .*networks 0$' "$out"

json=$(natctl -j info)
check_eq "JSON version matches the module" \
	"$(cat /sys/module/knat/version)" "$(jq -r .version <<<"$json")"
check_eq "JSON network count" "0" "$(jq -r .networks <<<"$json")"
check_eq "JSON features" "info,networks,control,maps" "$(jq -r '.features | join(",")' <<<"$json")"

if command -v genl >/dev/null; then
	out=$(genl ctrl get name knat 2>&1)
	check_match "genl sees the family at version 1" \
		'Name: knat.*' "$(tr '\n' ' ' <<<"$out")"
	check_match "family version" 'Version: 0x1 ' "$(tr '\n' ' ' <<<"$out")"
fi

setup_ns ns1 ns2
check_match "natctl -n in a new netns" 'networks 0$' \
	"$(natctl -n "$ns1" info)"
check_match "natctl under ip netns exec" 'networks 0$' \
	"$(ip netns exec "$ns2" "$NATCTL" info)"

if command -v setpriv >/dev/null; then
	check "info needs no privilege" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$NATCTL" info
fi

exit $ret
