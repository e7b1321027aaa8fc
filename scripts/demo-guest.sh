#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The knat demo, run inside the test VM (or on any scratch machine as root:
# it only touches the namespaces it creates).
#
#   client (198.18.0.2) --- (198.18.0.1) router (203.0.113.1) --- (203.0.113.2) server
#          internal network 198.18.0.0/24        outside 203.0.113.0/24
#
# The server has no route to 198.18.0.0/24: the client reaches it only
# because knat on the router translates its traffic.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
NATCTL=${NATCTL:-$top/tools/natctl/natctl}
sfx=$$

client=demo-client-$sfx router=demo-router-$sfx server=demo-server-$sfx
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for ns in "$client" "$router" "$server"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

step "load knat"
if [ ! -d /sys/module/knat ]; then
	modprobe -a $(modinfo -F depends "${KNAT_MODULE:?set KNAT_MODULE to knat.ko}" | tr , ' ')
	run insmod "$KNAT_MODULE"
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
ip -n "$client" link set eth0 up
ip -n "$server" link set eth0 up
ip -n "$router" link set int0 up
ip -n "$router" link set ext0 up
ip -n "$client" route add default via 198.18.0.1
in_ns "$router" sysctl -qw net.ipv4.ip_forward=1
run ip -n "$router" -br addr show

# The server answers with the address and port it sees.
in_ns "$server" socat TCP-LISTEN:8080,fork,reuseaddr \
	SYSTEM:'echo "server sees $SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
pids+=($!)
in_ns "$server" socat UDP-RECVFROM:5353,fork \
	SYSTEM:'echo "server sees $SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
pids+=($!)
for _ in $(seq 50); do
	in_ns "$server" ss -ltn | grep -q ':8080 ' && break
	sleep 0.1
done

step "without NAT, the server cannot answer the client"
run in_ns "$client" ping -c 1 -W 1 203.0.113.2 || true

step "a NAT network on the router"
run "$NATCTL" -n "$router" network add lan internal 198.18.0.0/24 external dev ext0
run "$NATCTL" -n "$router" network show

step "the client reaches the server through knat"
run in_ns "$client" ping -c 2 -W 2 203.0.113.2
run in_ns "$client" socat -T 3 - TCP:203.0.113.2:8080 </dev/null
echo query | run in_ns "$client" socat -T 3 - UDP:203.0.113.2:5353,sourceport=20000
run in_ns "$client" traceroute -n -q 1 -w 1 203.0.113.2

step "the sessions and counters"
run "$NATCTL" -n "$router" session show
run "$NATCTL" -n "$router" stats network lan
run "$NATCTL" -n "$router" -p session show proto tcp

step "a shorter UDP timeout re-times live sessions"
run "$NATCTL" -n "$router" network set lan timeout udp 2
for _ in $(seq 100); do
	[ -z "$("$NATCTL" -n "$router" session show proto udp)" ] && break
	sleep 0.2
done
run "$NATCTL" -n "$router" session show proto udp
run "$NATCTL" -n "$router" stats network lan

step "delete the network"
run "$NATCTL" -n "$router" network delete lan
run "$NATCTL" -n "$router" info
