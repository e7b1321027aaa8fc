#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading the module while namespaces exist and carry traffic: the
# namespaces keep working without it, and a reload serves them again.
#
#   ns1 (192.0.2.1/24) veth ---- veth (192.0.2.2/24) ns2

. "$(dirname "$0")/lib.sh"

require_root
require_cmd ping
require_module

setup_ns ns1 ns2
ip link add veth1 netns "$ns1" type veth peer name veth2 netns "$ns2" ||
	skip_test "cannot create veth"
ip -n "$ns1" addr add 192.0.2.1/24 dev veth1
ip -n "$ns2" addr add 192.0.2.2/24 dev veth2
ip -n "$ns1" link set veth1 up
ip -n "$ns2" link set veth2 up

check "ping across with knat loaded" \
	ip netns exec "$ns1" ping -c 1 -W 5 192.0.2.2

check "unload while namespaces exist" knat_unload
check "ping across after unload" \
	ip netns exec "$ns1" ping -c 1 -W 5 192.0.2.2
check_fail "natctl fails in a namespace without the module" \
	natctl -n "$ns1" info

check "reload" knat_load
check_match "the family answers in an existing namespace" 'networks 0$' \
	"$(natctl -n "$ns2" info)"
check "ping across after reload" \
	ip netns exec "$ns1" ping -c 1 -W 5 192.0.2.2

exit $ret
