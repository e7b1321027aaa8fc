#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nothing leaves a network with an internal address (issue 13, RFC 5508
# REQ-4): protocols other than TCP, UDP and ICMP echo.
#
#   client1 198.18.0.2 --+
#                        +-- router (net0: 198.18.0.0/24 behind ext0)
#   client2 198.18.0.6 --+   ext0 203.0.113.1 -- server 203.0.113.2, .3
#
# - A GRE tunnel from client1 to the server through the NAT carries pings
#   both ways (the server's end of it is 203.0.113.1); its session is
#   listed with protocol 47 and expires after `timeout other`.
# - nat_other_proto.py: IP protocol 253 both ways, a second host's clash
#   on the same remote (drop_no_port), ICMP timestamp and information
#   requests translated like echo, an ICMP router advertisement from inside
#   dropped (drop_untranslatable).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER

check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 timeout other 4
check_eq "network show: timeout other 4" 4 \
	"$(natctl -n "$R" -j network show net0 | jq -r '.[0].timeouts.other')"

# --- GRE ------------------------------------------------------------------
if ip -n "$CLIENT1" link add gre1 type gre local 198.18.0.2 \
	remote 203.0.113.2 ttl 64 2>/dev/null; then
	ip -n "$SERVER" link add gre1 type gre local 203.0.113.2 \
		remote 203.0.113.1 ttl 64
	ip -n "$CLIENT1" addr add 198.51.100.1/30 dev gre1
	ip -n "$SERVER" addr add 198.51.100.2/30 dev gre1
	ip -n "$CLIENT1" link set gre1 up
	ip -n "$SERVER" link set gre1 up
	check "GRE: client1 pings the server's tunnel end through the NAT" \
		ip netns exec "$CLIENT1" ping -q -c 2 -W 5 198.51.100.2
	check "GRE: the session, protocol 47, 198.18.0.2 <-> 203.0.113.2" \
		has_session "$R" '(.proto == "47" or .proto == 47) and
			(.internal | startswith("198.18.0.2")) and
			(.external | startswith("203.0.113.1")) and
			(.remote | startswith("203.0.113.2"))'
	check "GRE: the server pings client1's tunnel end back" \
		ip netns exec "$SERVER" ping -q -c 2 -W 5 198.51.100.1
	gre_gone() {
		no_session "$R" '(.proto == "47" or .proto == 47)'
	}
	check "GRE: the session expires after timeout other (4 s)" \
		busywait $(( $(scaled 20) * 1000 )) gre_gone
	ip -n "$CLIENT1" link del gre1
	ip -n "$SERVER" link del gre1
else
	log "no GRE in this kernel: the GRE part is skipped"
fi

# --- raw IP protocols and ICMP queries --------------------------------------
check "network set timeout other 600" \
	natctl -n "$R" network set net0 timeout other 600
NATCTL=$NATCTL python3 "$KSELFTEST_DIR/nat_other_proto.py" "$R" \
	"$CLIENT1" "$CLIENT2" "$SERVER" || ret=$ksft_fail

exit $ret
