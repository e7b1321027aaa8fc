#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# External port allocation: the internal port is kept when it is free and
# in range; a port on which the router itself has a socket (a bound UDP
# socket, a TCP listener) is never handed out, and those sockets keep
# receiving their traffic.
#
#   client1, client2 --- router (net0: ports 25000-25002,
#                                UDP socket on 203.0.113.1:25000,
#                                TCP listener on *:25001) --- server

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss
require_module

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	nat_cleanup
	wait 2>/dev/null
}
trap cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 ports 25000-25002 || { fail "network add"; exit $ret; }

# The router's own sockets, on ports inside the network's range.
rx=/tmp/knat-ports-$$.rx
ip netns exec "$ROUTER" socat -u UDP-RECV:25000,bind=203.0.113.1 \
	OPEN:"$rx",creat,append &
pids+=($!)
ip netns exec "$ROUTER" socat TCP-LISTEN:25001,reuseaddr,fork \
	SYSTEM:'echo router' &
pids+=($!)
# The server answers with the source it sees (lib.sh's UDP server: no
# process per datagram, so a slow CPU does not lose answers).
NAT_TMP=$(mktemp -d)
udp_server "$SERVER" 203.0.113.2 9000 peer "$NAT_TMP/server"
ip netns exec "$SERVER" socat TCP-LISTEN:8080,reuseaddr,fork \
	SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
pids+=($!)
busywait 10000 sh -c "ip netns exec $ROUTER ss -lun | grep -q 203.0.113.1:25000 &&
	ip netns exec $ROUTER ss -ltn | grep -q ':25001 ' &&
	ip netns exec $SERVER ss -ltn | grep -q ':8080 '" ||
	{ fail "servers did not start"; exit $ret; }

udp_from() {	# NS SPORT: what the server saw
	udp_client "$1" -b "0.0.0.0:$2" -t 30 203.0.113.2:9000
}

# tcp_read NS ADDR PORT [SPORT]: what a TCP server sends (read only: no
# half-close that a slow server could lose its answer to).
tcp_read() {
	ip netns exec "$1" timeout 40 socat -u \
		"TCP:$2:$3,connect-timeout=10${4:+,sourceport=$4,reuseaddr}" -
}

seen=$(udp_from "$CLIENT2" 25002)
check_eq "a free internal port in range is kept" "203.0.113.1:25002" "$seen"

seen=$(udp_from "$CLIENT1" 25000)
check_match "UDP: the port of the router's UDP socket is skipped" \
	'^203\.0\.113\.1:2500[12]$' "$seen"

seen=$(tcp_read "$CLIENT1" 203.0.113.2 8080 25001)
check_match "TCP: the port of the router's listener is skipped" \
	'^203\.0\.113\.1:2500[02]$' "$seen"

# The router's own services on those ports still get their traffic.
echo hello-router | ip netns exec "$SERVER" socat -u - \
	UDP-SENDTO:203.0.113.1:25000
busywait 5000 grep -q hello-router "$rx"
check "the router's UDP socket still receives" grep -q hello-router "$rx"
check_eq "the router's TCP listener still answers" "router" \
	"$(tcp_read "$SERVER" 203.0.113.1 25001)"

sessions=$(natctl -n "$ROUTER" -j session show)
check_eq "no session uses UDP port 25000" "0" \
	"$(jq '[.[] | select(.proto == "udp" and .external == "203.0.113.1:25000")] | length' <<<"$sessions")"
check_eq "no session uses TCP port 25001" "0" \
	"$(jq '[.[] | select(.proto == "tcp" and .external == "203.0.113.1:25001")] | length' <<<"$sessions")"

rm -f "$rx"
exit $ret
