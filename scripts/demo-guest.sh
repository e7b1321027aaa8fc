#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The knat demo, run inside the test VM (or on any scratch machine as root:
# it only touches the namespaces it creates).
#
#   client (198.18.0.2) --- (198.18.0.1) router (203.0.113.1) --- (203.0.113.2) server
#          internal network 198.18.0.0/24        external network 203.0.113.0/24
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
NATCTL=${NATCTL:-$top/tools/natctl/natctl}
sfx=$$

client=demo-client-$sfx router=demo-router-$sfx server=demo-server-$sfx
cleanup() {
	for ns in "$client" "$router" "$server"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "load knat"
if [ ! -d /sys/module/knat ]; then
	run insmod "${KNAT_MODULE:?set KNAT_MODULE to knat.ko}"
fi
run "$NATCTL" info

step "three namespaces: client, router, server"
for ns in "$client" "$router" "$server"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add int0 netns "$router" type veth peer name eth0 netns "$client"
ip link add ext0 netns "$router" type veth peer name eth0 netns "$server"
ip -n "$client" addr add 198.18.0.2/24 dev eth0
ip -n "$router" addr add 198.18.0.1/24 dev int0
ip -n "$router" addr add 203.0.113.1/24 dev ext0
ip -n "$server" addr add 203.0.113.2/24 dev eth0
for ns in "$client" "$router" "$server"; do
	ip -n "$ns" link set all up 2>/dev/null || true
	for dev in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		ip -n "$ns" link set "$dev" up
	done
done
ip -n "$client" route add default via 198.18.0.1
ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
run ip -n "$router" -br addr

step "knat in the router's namespace"
run "$NATCTL" -n "$router" info
run "$NATCTL" -n "$router" -j info

step "client pings the server through the router"
run ip netns exec "$client" ping -c 2 -W 2 203.0.113.2 || true
echo "(NAT networks are not in this version yet: the router only routes,"
echo " and the server has no route back to 198.18.0.0/24.)"
