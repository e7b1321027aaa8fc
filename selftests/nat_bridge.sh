#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Containers on one bridge, Docker's way (issue 13 item 11): br_netfilter
# loaded and bridge-nf-call-iptables on, so bridged IPv4 frames cross the
# IPv4 hooks too.
#
#   c1 198.18.0.2 --\
#                    br0 198.18.0.1/24 -- router -- ext0 203.0.113.1
#   c2 198.18.0.3 --/                                 server 203.0.113.2
#
#   network net0 internal 198.18.0.0/24 external dev ext0
#   map tcp 8080 -> 198.18.0.2:80, map udp 8080 -> 198.18.0.2:80
#
# - c1 and c2 talk to each other straight over the bridge, untranslated;
# - both reach the server, translated;
# - the server reaches c1 through the mapping;
# - c2 to c1 through the mapping on 203.0.113.1 (hairpin), TCP and UDP,
#   and a ping from c1 to c2's 1:1 address: with bridge-nf-call-iptables=1
#   and 0, hairpinned, c1 sees 203.0.113.1;
# - c2 to c1 when both are mapped 1:1 (no session to split the
#   translation on): with bridge-nf-call-iptables=1 dropped and counted in
#   drop_bridged_hairpin with a kernel log line (br_netfilter would drop
#   it in silence); with it 0, hairpinned.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq python3 ss
require_module
trap nat_cleanup EXIT

modprobe -q br_netfilter 2>/dev/null ||
	grep -q br_netfilter "/lib/modules/$(uname -r)/modules.builtin" ||
	skip_test "no br_netfilter in this kernel"

setup_ns C1 C2 ROUTER SERVER || skip_test "cannot make namespaces"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

ip -n "$R" link add br0 type bridge
ip link add p1 netns "$R" type veth peer name eth0 netns "$C1"
ip link add p2 netns "$R" type veth peer name eth0 netns "$C2"
ip link add ext0 netns "$R" type veth peer name eth0 netns "$SERVER"
for p in p1 p2; do
	ip -n "$R" link set "$p" master br0
	ip -n "$R" link set "$p" up
done
ip -n "$R" link set br0 up
ip -n "$R" link set ext0 up
ip -n "$R" addr add 198.18.0.1/24 dev br0
ip -n "$R" addr add 203.0.113.1/24 dev ext0
ip -n "$C1" addr add 198.18.0.2/24 dev eth0
ip -n "$C2" addr add 198.18.0.3/24 dev eth0
ip -n "$SERVER" addr add 203.0.113.2/24 dev eth0
for ns in "$C1" "$C2" "$SERVER"; do
	ip -n "$ns" link set eth0 up
done
ip -n "$C1" route add default via 198.18.0.1
ip -n "$C2" route add default via 198.18.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
check "bridge-nf-call-iptables on in the router" \
	ip netns exec "$R" sysctl -qw net.bridge.bridge-nf-call-iptables=1
busywait 5000 ip netns exec "$C1" ping -c 1 -W 1 198.18.0.1 >/dev/null
busywait 5000 ip netns exec "$C2" ping -c 1 -W 1 198.18.0.1 >/dev/null

check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 timeout udp 1800
check "map tcp 8080" natctl -n "$R" map add net0 tcp 8080 to 198.18.0.2:80
check "map udp 8080" natctl -n "$R" map add net0 udp 8080 to 198.18.0.2:80

tcp_peer_server "$C1" 80
udp_server "$C1" 0.0.0.0 80 peer "$LOG/c1"
tcp_peer_server "$SERVER" 8080

check_eq "c2 -> c1:80 over the bridge, untranslated" "198.18.0.3:41001" \
	"$(tcp_peer "$C2" 198.18.0.2 80 41001)"
check_match "c1 -> the server, translated" '^203\.0\.113\.1:[0-9]+$' \
	"$(tcp_peer "$C1" 203.0.113.2 8080 41002)"
check_match "c2 -> the server, translated" '^203\.0\.113\.1:[0-9]+$' \
	"$(tcp_peer "$C2" 203.0.113.2 8080 41003)"
check_eq "the server -> c1 through the mapping" "203.0.113.2:41004" \
	"$(tcp_peer "$SERVER" 203.0.113.1 8080 41004)"

# Hairpinning across the bridge with bridge-nf-call-iptables on: knat
# translates the destination at PREROUTING and the source at FORWARD, so
# br_netfilter routes (bridges) the packet from c2's own address, and the
# bridge's FORWARD pass translates its source.
h0=$(counter "$R" hairpinned net0)
b0=$(counter "$R" drop_bridged_hairpin net0)
check_match "hairpin, bridge-nf-call-iptables=1: TCP c2 -> 203.0.113.1:8080 reaches c1, seen from 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$(tcp_peer "$C2" 203.0.113.1 8080 41005)"
check_match "... UDP the same" '^203\.0\.113\.1:[0-9]+$' \
	"$(udp_client "$C2" -b 0.0.0.0:41006 203.0.113.1:8080)"
check "... counted as hairpinned" counter_above "$R" hairpinned "$h0" net0
check_eq "... not in drop_bridged_hairpin" "$b0" \
	"$(counter "$R" drop_bridged_hairpin net0)"
check_eq "... c2's flows have their sessions" 2 \
	"$(nat_sessions "$R" | jq '[.[] | select(.internal == "198.18.0.3:41005"
		or .internal == "198.18.0.3:41006")] | length')"

# A ping to c2's 1:1 address, and its replies, the same way.
check "map add net0 ip 203.0.113.51 to 198.18.0.3" \
	natctl -n "$R" map add net0 ip 203.0.113.51 to 198.18.0.3
check "hairpin, bridge-nf-call-iptables=1: c1 pings 203.0.113.51 (c2)" \
	ip netns exec "$C1" ping -c 2 -i 0.5 -W 5 203.0.113.51
check_eq "... not in drop_bridged_hairpin" "$b0" \
	"$(counter "$R" drop_bridged_hairpin net0)"

# Between two 1:1-mapped hosts there is no session to tell FORWARD the
# source's translation: knat would translate both ends at PREROUTING,
# which br_netfilter drops as a martian.  knat drops it itself, counts it
# and says so in the kernel log.  (A 1:1-mapped host has no port
# mappings: c1's go first.)
check "map del net0 tcp 8080" natctl -n "$R" map del net0 tcp 8080
check "map del net0 udp 8080" natctl -n "$R" map del net0 udp 8080
check "map add net0 ip 203.0.113.50 to 198.18.0.2" \
	natctl -n "$R" map add net0 ip 203.0.113.50 to 198.18.0.2
check_fail "hairpin 1:1 to 1:1, bridge-nf-call-iptables=1: c2 -> 203.0.113.50:80 refused" \
	tcp_peer "$C2" 203.0.113.50 80 41007
check "... counted in drop_bridged_hairpin" \
	counter_above "$R" drop_bridged_hairpin "$b0" net0
check_match "... the kernel log says why" \
	'knat: net0: this flow cannot be hairpinned across a bridge with bridge-nf-call-iptables=1' \
	"$(dmesg | tail -n 50)"

# With bridge-nf-call-iptables off in the router's namespace, the frames
# to the router's address are routed as on any link: all hairpinned.
check "bridge-nf-call-iptables off" \
	ip netns exec "$R" sysctl -qw net.bridge.bridge-nf-call-iptables=0
b1=$(counter "$R" drop_bridged_hairpin net0)
h1=$(counter "$R" hairpinned net0)
check_eq "hairpin 1:1 to 1:1: c2 -> 203.0.113.50:80 reaches c1, seen from 203.0.113.51" \
	"203.0.113.51:41008" "$(tcp_peer "$C2" 203.0.113.50 80 41008)"
for a in 203.0.113.50 203.0.113.51; do
	check "natctl map delete net0 ip $a" natctl -n "$R" map delete net0 ip $a
done
check "map tcp 8080 again" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.2:80
check "map udp 8080 again" \
	natctl -n "$R" map add net0 udp 8080 to 198.18.0.2:80
check_match "hairpin: c2 -> 203.0.113.1:8080 (TCP) reaches c1, seen from 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' "$(tcp_peer "$C2" 203.0.113.1 8080 41009)"
check_match "hairpin: c2 -> 203.0.113.1:8080 (UDP) reaches c1, seen from 203.0.113.1" \
	'^203\.0\.113\.1:[0-9]+$' \
	"$(udp_client "$C2" -b 0.0.0.0:41010 203.0.113.1:8080)"
check "hairpinned counted" counter_above "$R" hairpinned "$h1" net0
check_eq "drop_bridged_hairpin did not move" "$b1" \
	"$(counter "$R" drop_bridged_hairpin net0)"

exit $ret
