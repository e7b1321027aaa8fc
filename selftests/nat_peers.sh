#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Address-dependent filtering with many remote addresses and ports on one
# mapping (issue 13 item 4: the inbound index is exact; which remote
# addresses a mapping talks to is kept beside it, the first in the mapping
# and the others in a table of their own).
#
#   client1 198.18.0.2:25000 --- router (net0) --- server 203.0.113.2, .3, .4
#
# client1 sends from port 25000 to .2:9000 and .3:9000 (one mapping, two
# remote addresses).  Then, with a listener on client1:25000:
#  - .2 and .3 from other ports get in, .4 does not (drop_filtered);
#  - .3 from 500 more ports gets in: 500 more sessions of the mapping;
#  - once every session with .2 is flushed, .2 no longer gets in and .3
#    still does; once those with .3 are too (the mapping goes with them), a
#    new mapping of client1 to .2 lets .2 in and not .3.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

for a in 2 3; do
	udp_server "$SERVER" "203.0.113.$a" 9000 peer "$LOG/server$a"
done
check "network add net0 (address-dependent filtering)" \
	natctl -n "$R" network add net0 internal 198.18.0.0/24 \
	external dev ext0 filtering address-dependent timeout udp 1200

out2=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 203.0.113.2:9000)
out3=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 203.0.113.3:9000)
check_match "client1:25000 -> .2 is mapped" '^203\.0\.113\.1:[0-9]+$' "$out2"
check_eq "client1:25000 -> .3: the same mapping" "$out2" "$out3"
port=${out2##*:}

udp_server "$CLIENT1" 0.0.0.0 25000 none "$LOG/client"
# send FROM_ADDR FROM_PORT TAG: a datagram from the server to the mapping.
send() {
	udp_client "$SERVER" -n -b "$1:$2" -d "$3" "203.0.113.1:$port"
}
got() { grep -q " $1\$" "$LOG/client"; }
arrives() {
	send "$1" "$2" "$3"
	check "$4: arrives" busywait 5000 got "$3"
}
refused() {
	local f
	f=$(counter "$R" drop_filtered)
	send "$1" "$2" "$3"
	busywait 3000 counter_is "$R" drop_filtered $((f + 1))
	check_eq "$4: refused (drop_filtered)" $((f + 1)) \
		"$(counter "$R" drop_filtered)"
	check_fail "$4: did not arrive" got "$3"
}

arrives 203.0.113.2 9101 tag-a ".2 from another port"
arrives 203.0.113.3 9102 tag-b ".3 (the mapping's second remote) from another port"
refused 203.0.113.4 9103 tag-c ".4, never sent to"

# 500 ports of .3, each a session of its own.
ip netns exec "$SERVER" python3 -c '
import socket, sys, time
for p in range(10000, 10500):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("203.0.113.3", p))
    s.sendto(b"many", ("203.0.113.1", int(sys.argv[1])))
    s.close()
    time.sleep(0.005)    # the listener logs each: let it keep up' "$port"
many() { [ "$(grep -c ' many$' "$LOG/client")" = 500 ]; }
check "500 datagrams from 500 ports of .3 arrive" busywait 10000 many
check_eq "502 sessions of the mapping with .3" 502 \
	"$(nat_sessions "$R" | jq --arg e "$out2" '[.[] | select(.external == $e
		and (.remote | startswith("203.0.113.3:")))] | length')"

check "session flush remote 203.0.113.2" \
	natctl -n "$R" session flush remote 203.0.113.2
refused 203.0.113.2 9104 tag-d ".2, its sessions flushed"
arrives 203.0.113.3 9105 tag-e ".3, still talked to"

check "session flush remote 203.0.113.3" \
	natctl -n "$R" session flush remote 203.0.113.3
check_eq "no session left" 0 "$(session_count "$R")"
out2=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 203.0.113.2:9000)
check_match "client1:25000 -> .2 again: a new mapping" \
	'^203\.0\.113\.1:[0-9]+$' "$out2"
port=${out2##*:}
refused 203.0.113.3 9106 tag-f ".3, no longer talked to"
arrives 203.0.113.2 9107 tag-g ".2, talked to again"

exit $ret
