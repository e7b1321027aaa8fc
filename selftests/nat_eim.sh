#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Endpoint-independent mapping, port preservation and the three filtering
# behaviours (RFC 4787 REQ-1, REQ-3, REQ-8; RFC 5382 REQ-1, REQ-3).
#
#   client1 198.18.0.2:25000 --- router (net0, ports 20000-30000) --- server
#   client2 198.18.0.6:25000         external 203.0.113.1       .2 .3 .4
#
# client1 sends from port 25000 to 203.0.113.2 and .3: both see the same
# external port, and it is 25000 (free and in the range).  client2 sends
# from port 25000 too: it gets another port, in the range.  Then, with a
# listener on client1:25000, the server sends to 203.0.113.1:25000 from
# addresses and ports client1 did or did not talk to, and the listener's
# log says what got in:
#
#   from                      address-dep.  address-port-dep.  endpoint-indep.
#   203.0.113.2, other port   in            dropped            in
#   203.0.113.4 (never seen)  dropped       dropped            in
#
# every drop counted in drop_filtered.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq python3 ss
require_module
trap nat_cleanup EXIT

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
nat_tmpdir
LOG=$NAT_TMP

for a in 2 3; do
	udp_server "$SERVER" "203.0.113.$a" 9000 peer "$LOG/server$a"
done
tcp_peer_server "$SERVER" 8080

# (timeout udp 1200: the sessions must outlive the test on a slow CPU)
check "network add (ports 20000-30000)" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 ports 20000-30000 \
	timeout udp 1200

# --- mapping ----------------------------------------------------------------

m2=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 -d a 203.0.113.2:9000)
m3=$(udp_client "$CLIENT1" -b 0.0.0.0:25000 -d b 203.0.113.3:9000)
check_eq "UDP 25000 -> .2: port preserved" "203.0.113.1:25000" "$m2"
check_eq "UDP 25000 -> .3: same mapping" "$m2" "$m3"
check_eq "two sessions, one mapping" \
	"203.0.113.1:25000 203.0.113.1:25000" \
	"$(nat_sessions "$R" proto udp | jq -r '[.[] |
		select(.internal == "198.18.0.2:25000") | .external] | join(" ")')"

m2b=$(udp_client "$CLIENT2" -b 0.0.0.0:25000 203.0.113.2:9000)
check_match "client2 from port 25000: another external port" \
	'^203\.0\.113\.1:[0-9]+$' "$m2b"
p=${m2b#*:}
check_eq "client2's port is not client1's, and in 20000-30000" 1 \
	"$([ "$p" != 25000 ] && [ "$p" -ge 20000 ] && [ "$p" -le 30000 ] &&
		echo 1)"
m3b=$(udp_client "$CLIENT2" -b 0.0.0.0:25000 203.0.113.3:9000)
check_eq "client2: same mapping to .3" "$m2b" "$m3b"

out=$(udp_client "$CLIENT1" -b 0.0.0.0:40000 203.0.113.2:9000)
p=${out#*:}
check_eq "port 40000 (outside the range): mapped into 20000-30000" 1 \
	"$([ "${out%:*}" = 203.0.113.1 ] && [ "$p" -ge 20000 ] &&
		[ "$p" -le 30000 ] && echo 1)"

# TCP: two connections from the same port to two servers.
t2=$(tcp_peer "$CLIENT1" 203.0.113.2 8080 26000)
t3=$(tcp_peer "$CLIENT1" 203.0.113.3 8080 26000)
check_eq "TCP 26000 -> .2: port preserved" "203.0.113.1:26000" "$t2"
check_eq "TCP 26000 -> .3: same mapping" "$t2" "$t3"

# --- filtering ----------------------------------------------------------------

# From now on client1:25000 listens and logs what it gets.  Its sessions
# (to .2:9000 and .3:9000) last 1200 s.
udp_server "$CLIENT1" 0.0.0.0 25000 none "$LOG/client"

# got TAG: the client's listener logged datagram TAG.
got() {
	grep -q " $1\$" "$LOG/client"
}

# send_in FROM_ADDR FROM_PORT TAG: from the server to client1's mapping.
send_in() {
	udp_client "$SERVER" -n -b "$1:$2" -d "$3" 203.0.113.1:25000
}

# expect_in MSG FROM_ADDR FROM_PORT TAG: it arrives, as from FROM_ADDR:PORT.
expect_in() {
	send_in "$2" "$3" "$4"
	if busywait 5000 got "$4"; then
		check_eq "$1" "$2:$3" "$(awk -v t="$4" '$3 == t { print $1 }' \
			"$LOG/client")"
	else
		fail "$1 (nothing arrived)"
	fi
}

# expect_dropped MSG FROM_ADDR FROM_PORT TAG: drop_filtered counts it, and
# a datagram sent after it through client1's only session with 203.0.113.3
# (the barrier) arrives while it did not.
n_barrier=0
expect_dropped() {
	local before
	before=$(counter "$R" drop_filtered net0)
	send_in "$2" "$3" "$4"
	if busywait 5000 counter_is "$R" drop_filtered $((before + 1)) net0
	then
		ok "$1: drop_filtered counted it"
	else
		fail "$1: drop_filtered $before -> $(counter "$R" drop_filtered net0)"
	fi
	n_barrier=$((n_barrier + 1))
	send_in 203.0.113.3 9000 "barrier$n_barrier"
	busywait 5000 got "barrier$n_barrier" ||
		fail "$1: the barrier did not arrive"
	check_fail "$1: did not arrive" got "$4"
}

log "filtering address-dependent (the default)"
expect_in "address-dependent: known address, other port gets in" \
	203.0.113.2 9999 ad-port
expect_dropped "address-dependent: unknown address" 203.0.113.4 9999 ad-addr

log "filtering address-port-dependent"
check "network set filtering address-port-dependent" \
	natctl -n "$R" network set net0 filtering address-port-dependent
expect_dropped "address-port-dependent: known address, other port" \
	203.0.113.3 9998 apd-port
expect_dropped "address-port-dependent: unknown address" \
	203.0.113.4 9998 apd-addr
expect_in "address-port-dependent: the session's own remote gets in" \
	203.0.113.3 9000 apd-same
# client1:25000 has two sessions with 203.0.113.2 (ports 9000 and 9999):
# each remote endpoint of them must get in.
expect_in "address-port-dependent: own remote, its address has 2 sessions" \
	203.0.113.2 9000 apd-same2

log "filtering endpoint-independent"
check "network set filtering endpoint-independent" \
	natctl -n "$R" network set net0 filtering endpoint-independent
expect_in "endpoint-independent: unknown address gets in" \
	203.0.113.4 9997 eif-addr
check "the mapping survived the filtering changes" has_session "$R" \
	'.internal == "198.18.0.2:25000" and .remote == "203.0.113.2:9000"'

check_eq "drops: 3 filtered, none other" "3 0 0 0 0" \
	"$(natctl -n "$R" -j stats network net0 | jq -r '.networks.net0 |
		[.drop_filtered, .drop_table_full, .drop_host_limit,
		 .drop_no_port, .drop_malformed] | join(" ")')"

exit $ret
