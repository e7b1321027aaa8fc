#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A dump of 100 000 sessions while traffic creates and expires others:
# every live session appears, and exactly once.
#
# pktgen, injecting straight into the router's receive path on int1
# (xmit_mode netif_receive), makes 100 000 UDP flows: one internal host,
# 20 001 source ports times 5 remote addresses (coprime cycles, so every
# packet is a new flow); the server's ingress drops them.  Meanwhile
# client2 keeps opening ICMP echo sessions that expire after a second.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq ping nft
require_module
modprobe pktgen 2>/dev/null || skip_test "no pktgen"

FLOWS=${DUMP_SCALE_FLOWS:-100000}

churn_pid=
cleanup() {
	[ -n "$churn_pid" ] && kill "$churn_pid" 2>/dev/null
	wait 2>/dev/null
	knat_cleanup
}
trap cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 ports 10000-60000 max-sessions 300000 \
	timeout icmp 1 || { fail "network add"; exit $ret; }
# The server drops everything at its ingress: a sink.
ip netns exec "$SERVER" nft -f - <<'NFT'
table netdev sink {
	chain in {
		type filter hook ingress device eth0 priority 0; policy drop;
	}
}
NFT

pktgen_setup "$ROUTER" int1 "count $FLOWS" \
	"src_min 198.18.0.2" "src_max 198.18.0.2" \
	"dst_min 203.0.113.2" "dst_max 203.0.113.6" \
	"udp_src_min 10000" "udp_src_max 30001" \
	"udp_dst_min 9" "udp_dst_max 9"
pktgen_start "$ROUTER"

check_eq "pktgen made $FLOWS UDP sessions" "$FLOWS" \
	"$(counter "$ROUTER" sessions_active)"

# Churn: short-lived ICMP sessions, each ping its own identifier.
(
	while true; do
		ip netns exec "$CLIENT2" ping -c 1 -W 1 203.0.113.2 >/dev/null
	done
) &
churn_pid=$!
expired_some() { [ "$(counter "$ROUTER" sessions_expired)" -gt 2 ]; }
busywait 30000 expired_some

# Text output: JSON of 100 000 sessions is slow to check in an emulated VM.
# Fields: proto, internal, ->, external, ->, remote, state, ...
natctl -n "$ROUTER" session show >/tmp/knat-dump-$$.txt
udp=$(awk '$1 == "udp"' /tmp/knat-dump-$$.txt | wc -l)
all=$(wc -l </tmp/knat-dump-$$.txt)
uniq=$(awk '{print $1, $2, $6}' /tmp/knat-dump-$$.txt | sort -u | wc -l)
rm -f /tmp/knat-dump-$$.txt
check_eq "every UDP session is dumped, under churn" "$FLOWS" "$udp"
check_eq "no session is dumped twice" "$all" "$uniq"
check "ICMP sessions were created and expired during the dumps" \
	test "$(counter "$ROUTER" sessions_expired)" -gt 2

exit $ret
