#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A flood of new flows against a small table: established flows keep
# working, the table and memory stay at the limit, the drops are counted.
#
#   client1 198.18.0.2 (established flows) \
#                                           router (net0 198.18.0.0/24,
#   pktgen on int1: 198.18.0.100-.200       /   max-sessions 2000) --- server
#
# Before the flood, client1 opens a TCP connection and a UDP flow to the
# server, which echoes, and keeps exchanging on both (one message at a
# time, each must come back: TCP on the same connection, UDP retried up
# to 3 times).  pktgen then injects, straight into the router's receive
# path on int1 (xmit_mode netif_receive), UDP from 101 source addresses
# times 50 000 source ports (every packet a new flow), without end, to
# the server's discard port (dropped at its ingress).  The table fills to
# max-sessions; two snapshots, each after the client has done more
# exchanges under the flood, the second after 30 000 more flows were
# dropped: sessions_active is the limit, bytes_in_use the same, the
# kernel's unreclaimable slab (/proc/meminfo) grew by far less than the
# dropped flows would have taken.  After the flood: every packet pktgen
# sent either made a session or was counted in drop_table_full; a new
# real flow is dropped and counted; the established flows lost nothing;
# after a flush new flows work again.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq python3 ss nft
require_module
modprobe pktgen 2>/dev/null || skip_test "no pktgen"

MAX=2000
MORE=${FLOOD_MORE:-30000}

pg_pid=
cleanup() {
	if [ -n "$pg_pid" ]; then
		pktgen_stop "$ROUTER" 2>/dev/null
		wait "$pg_pid" 2>/dev/null
	fi
	nat_cleanup
}
trap cleanup EXIT

setup_nat_topology || skip_test "cannot build the topology"
R=$ROUTER
nat_tmpdir
T=$NAT_TMP

check "network add net0 max-sessions $MAX" natctl -n "$R" network add net0 \
	internal 198.18.0.0/24 external dev ext0 max-sessions $MAX
# The flood's packets end at the server's ingress.
ip netns exec "$SERVER" nft -f - <<'NFT'
table netdev sink {
	chain in {
		type filter hook ingress device eth0 priority 0; policy accept;
		udp dport 9 drop
	}
}
NFT

cat >"$T/flow.py" <<'PYEOF'
import os, signal, socket, sys, threading, time

stop = False
def on_term(*_):
    global stop
    stop = True

def server(port_udp, port_tcp):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", port_udp))
    def udp():
        while True:
            data, peer = u.recvfrom(2048)
            u.sendto(data, peer)
    def conn(c):
        while True:
            data = c.recv(2048)
            if not data:
                return
            c.sendall(data)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port_tcp))
    t.listen(8)
    threading.Thread(target=udp, daemon=True).start()
    while True:
        c, _ = t.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()

# client DST UDP_SPORT PROGRESS: one TCP connection and one UDP flow;
# rounds of one message each way on both, numbered, until SIGTERM.
# PROGRESS holds "rounds=N tcp_ok=N udp_ok=N udp_retries=N failed=N".
def client(dst, sport, progress):
    signal.signal(signal.SIGTERM, on_term)
    t = socket.create_connection((dst, 9100), timeout=10)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", sport))
    u.connect((dst, 9000))
    u.settimeout(2)
    n = tcp_ok = udp_ok = retries = failed = 0
    buf = b""
    while not stop:
        n += 1
        msg = b"%08d\n" % n
        try:
            t.sendall(msg)
            while b"\n" not in buf:
                d = t.recv(100)
                if not d:
                    raise OSError("closed")
                buf += d
            line, buf = buf.split(b"\n", 1)
            if line + b"\n" == msg:
                tcp_ok += 1
            else:
                failed += 1
        except OSError:
            failed += 1
            break
        for i in range(3):
            u.send(msg)
            try:
                while u.recv(100) != msg:
                    pass
                udp_ok += 1
                break
            except OSError:
                retries += 1
        else:
            failed += 1
        with open(progress + ".new", "w") as f:
            f.write("rounds=%d tcp_ok=%d udp_ok=%d udp_retries=%d failed=%d\n"
                    % (n, tcp_ok, udp_ok, retries, failed))
        os.rename(progress + ".new", progress)
        time.sleep(0.05)

if sys.argv[1] == "server":
    server(9000, 9100)
else:
    client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
PYEOF

bg_run "$SERVER" python3 "$T/flow.py" server
wait_listen "$SERVER" udp 9000 && wait_listen "$SERVER" tcp 9100 ||
	{ fail "the server did not start"; exit $ret; }
ip netns exec "$CLIENT1" python3 "$T/flow.py" client 203.0.113.2 40000 \
	"$T/progress" 2>"$T/client.err" &
client_pid=$!
BG_PIDS+=("$client_pid")

# prog KEY: a figure of the client's progress.
prog() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" "$T/progress" 2>/dev/null; }
rounds_above() { [ "$(prog rounds)" -gt "$1" ] 2>/dev/null; }
check "the established flows work" busywait 30000 rounds_above 5
check_eq "two sessions (TCP, UDP)" 2 "$(counter "$R" sessions_active)"

slab() { awk '$1 == "SUnreclaim:" {print $2}' /proc/meminfo; }
added0=$(counter "$R" sessions_added)
full0=$(counter "$R" drop_table_full)
slab0=$(slab)

# --- the flood ---------------------------------------------------------------

# pktgen's sources must be routed to int1: knat refuses new flows whose
# internal source came in elsewhere (drop_spoofed), whatever rp_filter says.
for pfx in 198.18.0.64/26 198.18.0.128/26 198.18.0.192/28; do
	ip -n "$R" route add "$pfx" dev int1
done
pktgen_setup "$R" int1 "count 0" \
	"src_min 198.18.0.100" "src_max 198.18.0.200" \
	"dst_min 203.0.113.2" "dst_max 203.0.113.2" \
	"udp_src_min 10000" "udp_src_max 60000" \
	"udp_dst_min 9" "udp_dst_max 9"
pktgen_start "$R" &
pg_pid=$!

full() { [ "$(counter "$R" sessions_active)" -ge "$MAX" ]; }
check "the flood fills the table" busywait 300000 full

# snapshot: sessions_active bytes_in_use SUnreclaim, after the client has
# done 20 more rounds under the flood.
snapshot() {
	local r
	r=$(prog rounds)
	busywait 300000 rounds_above $((r + 20)) ||
		fail "the established flows stalled under the flood"
	echo "$(counter "$R" sessions_active) $(counter "$R" bytes_in_use) $(slab)"
}
read -r act1 bytes1 slab1 <<<"$(snapshot)"
full1=$(counter "$R" drop_table_full)
dropped_more() { counter_above "$R" drop_table_full $((full1 + MORE)); }
check "$MORE more new flows dropped" busywait 600000 dropped_more
read -r act2 bytes2 slab2 <<<"$(snapshot)"

pktgen_stop "$R"
wait "$pg_pid"
pg_pid=
sent=$(ip netns exec "$R" cat /proc/net/pktgen/int1 |
	sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p')

added=$(($(counter "$R" sessions_added) - added0))
dropped=$(($(counter "$R" drop_table_full) - full0))
log "pktgen sent $sent packets: $added sessions, $dropped dropped (table full)"
log "sessions_active $act1, $act2; bytes_in_use $bytes1, $bytes2;" \
	"SUnreclaim ${slab0} kB before, $slab1 kB, $slab2 kB"
check_eq "sessions_active at the limit (first snapshot)" "$MAX" "$act1"
check_eq "sessions_active at the limit (second snapshot)" "$MAX" "$act2"
check_eq "bytes_in_use unchanged while $MORE and more flows were dropped" \
	"$bytes1" "$bytes2"
check "bytes_in_use at most 256 bytes a session ($bytes1)" \
	test "$bytes1" -le $((MAX * 256))
# 30 000 sessions with their mappings would take over 3 MB.
check "unreclaimable slab grew less than 1 MiB meanwhile ($((slab2 - slab1)) kB)" \
	test $((slab2 - slab1)) -lt 1024
check_eq "every flood packet made a session or was counted dropped" \
	"$sent" $((added + dropped))
check_eq "the flood made the sessions the limit left room for" \
	$((MAX - 2)) "$added"
check_eq "no other drop" "0 0 0" "$(natctl -n "$R" -j stats network net0 |
	jq -r '.networks.net0 | "\(.drop_host_limit) \(.drop_no_port) \(.drop_nomem)"')"
srcs=$(nat_sessions "$R" | jq '[.[].internal | split(":")[0]] | unique | length')
log "the sessions' internal hosts: $srcs"
check "the sessions come from many sources" test "$srcs" -gt 100

# --- after it -------------------------------------------------------------------

bg_kill "$client_pid"
log "established flows: $(cat "$T/progress")"
check_eq "the established flows lost nothing" 0 "$(prog failed)"
check_eq "every TCP round answered" "$(prog rounds)" "$(prog tcp_ok)"
check_eq "every UDP round answered" "$(prog rounds)" "$(prog udp_ok)"
[ -s "$T/client.err" ] && sed 's/^/#   /' "$T/client.err"

full2=$(counter "$R" drop_table_full)
check_fail "a new flow while the table is full gets no answer" \
	udp_client "$CLIENT2" -t 2 -b 0.0.0.0:40001 203.0.113.2:9000
check_eq "and is counted" $((full2 + 1)) "$(counter "$R" drop_table_full)"
check "session flush" natctl -n "$R" session flush
check_eq "bytes_in_use 0 after the flush" 0 "$(counter "$R" bytes_in_use)"
check_eq "a new flow works after the flush" "x" \
	"$(udp_client "$CLIENT2" -t 5 -d x -b 0.0.0.0:40002 203.0.113.2:9000)"

exit $ret
