#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# knat's flows beside an nftables flowtable (issue 13 item 11).  The
# router offloads every established flow:
#
#   table inet ft {
#       flowtable f { hook ingress priority 0; devices = { int1, int2, ext0 }; }
#       chain fwd1 { type filter hook forward priority 0;
#                    meta l4proto { tcp, udp } ct state established flow add @f }
#   }
#
# A flowtable's fast path forwards a flow's packets at the devices'
# ingress, skipping FORWARD, where knat translates them outward: they
# would leave with the internal address.  knat marks the conntrack
# entries of its flows so that the flowtable takes none of them.  Checked
# with real traffic: a UDP flow of 60 datagrams whose every datagram must
# reach the server from 203.0.113.1, a TCP transfer of 300 000 bytes out,
# and one of 300 000 bytes from an internal server through a port mapping,
# each complete; and no flow in the flowtable.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3 socat nft conntrack
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

if ! ip netns exec "$R" nft -f - <<'EOF'
table inet ft {
	flowtable f {
		hook ingress priority 0
		devices = { int1, int2, ext0 }
	}
	chain fwd1 {
		type filter hook forward priority 0; policy accept;
		meta l4proto { tcp, udp } ct state established flow add @f
	}
}
EOF
then
	skip_test "no nftables flowtable in this kernel"
fi
check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 timeout udp 1200
check "map tcp 8080 to client2:80" \
	natctl -n "$R" map add net0 tcp 8080 to 198.18.0.6:80

# --- UDP out --------------------------------------------------------------
udp_server "$SERVER" 203.0.113.2 7000 echo "$LOG/server"
check "client1: 60 datagrams to the echo server, 60 echoes" \
	udp_client "$CLIENT1" -b 0.0.0.0:4000 -c 60 -i 0.05 -t 5 \
	203.0.113.2:7000
busywait 5000 test "$(wc -l <"$LOG/server")" -ge 60
check_eq "the server got all 60" 60 "$(wc -l <"$LOG/server")"
check_eq "every one from 203.0.113.1" 60 \
	"$(grep -c '^203\.0\.113\.1:' "$LOG/server")"

# --- TCP out and in -----------------------------------------------------------
head -c 300000 /dev/urandom >"$LOG/big"
bg_run "$SERVER" socat -u TCP-LISTEN:9001,reuseaddr CREATE:"$LOG/out1"
wait_listen "$SERVER" tcp 9001
check "client1: 300000 bytes to the server" \
	ip netns exec "$CLIENT1" timeout "$(scaled 60)" socat -u \
	FILE:"$LOG/big" TCP:203.0.113.2:9001
busywait 10000 test "$(stat -c %s "$LOG/out1" 2>/dev/null)" = 300000
check_eq "the server got all of it" 300000 "$(stat -c %s "$LOG/out1")"

bg_run "$CLIENT2" socat -u FILE:"$LOG/big" TCP-LISTEN:80,reuseaddr
wait_listen "$CLIENT2" tcp 80
check "the server: 300000 bytes from client2 through 203.0.113.1:8080" \
	ip netns exec "$SERVER" timeout "$(scaled 60)" socat -u \
	TCP:203.0.113.1:8080 CREATE:"$LOG/out2"
check_eq "it got all of it" 300000 "$(stat -c %s "$LOG/out2")"

offloaded=$(ip netns exec "$R" conntrack -L 2>/dev/null | grep -c OFFLOAD)
check_eq "no flow of knat's in the flowtable" 0 "$offloaded"
check_eq "knat translated them: no drop" "0 0" \
	"$(counter "$R" drop_malformed) $(counter "$R" drop_nomem)"

exit $ret
