#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load and races: concurrent configuration writers, namespace churn and
# traffic for KNAT_STRESS_SECONDS (default 60, times KNAT_TIME_SCALE), then
# the module unloaded under traffic.
#
#   client1 198.18.0.2  (net0) \
#   client2 198.18.0.6  (net1) -- router (ext0 203.0.113.1, .5) -- server
#   client3 198.18.0.10 (scr)  /                          203.0.113.2-.4
#
# net0 and net1 stay configured throughout; their timeouts are short, so
# sessions come and go all the time.  Traffic from each client: UDP from
# 64 source ports to three servers (each flow idle longer than its
# timeout, so most packets open a new session), TCP connections, pings
# (each its own identifier); the server also sends UDP to the external
# address's port 7000, which a mapping of net0 comes and goes on.
#
# Writers, each a loop until the deadline:
#   scr    network add, set (external address changes, timeouts), session
#          flush and delete of scr, whose client keeps sending
#   map    map add and delete on net0 (UDP 7000, TCP 7001-7005)
#   flush  session flush of net0 (all, UDP only) and scr
#   apply  natctl -f of small files: networks s1 (with a mapping on
#          203.0.113.1:7000, which conflicts with net0's) and s2 (whose
#          prefix overlaps scr's), a change to net0, and their deletion
#   set    network set net0: timeouts, filtering, max-sessions
#   dump   session show, stats, network show, map show
#   netns  pairs of namespaces, a router with a network and sessions
#          and its client, created and deleted
# Nobody touches net1: nothing but expiry may remove its sessions.
#
# Checks: writers' failures are only conflicts between writers; net0 and
# net1 traffic never leaves untranslated and still translates at the end
# (TCP and UDP answers from the server that saw 203.0.113.1); net1 has
# sessions_added - sessions_expired == sessions_active and nothing
# deleted; once every session is gone, for each network and the namespace
# sessions_added - sessions_expired - sessions_deleted == 0 and
# bytes_in_use is 0 (no mapping or host record left behind); rmmod under
# traffic, with churned namespaces alive, then reload; nothing in the
# kernel log.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq ping python3 ss nft socat
require_module

# A slow kernel (KNAT_TIME_SCALE) gets as many writer operations in, not
# fewer: the writers are forks and execs, slower by as much.
SECONDS_RUN=${KNAT_STRESS_SECONDS:-$(scaled 60)}
CHURN=stressch-$$

cleanup() {
	bg_kill "${BG_PIDS[@]}"
	BG_PIDS=()
	wait 2>/dev/null
	local ns
	for ns in $(ip netns list | awk -v p="$CHURN" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$ns" 2>/dev/null
	done
	nat_cleanup
}
trap cleanup EXIT

splats=$(dmesg_splats)

setup_nat_topology || skip_test "cannot set up the topology"
R=$ROUTER
setup_ns CLIENT3 || skip_test "cannot create client3"
ip link add int3 netns "$R" type veth peer name eth0 netns "$CLIENT3"
ip -n "$CLIENT3" addr add 198.18.0.10/30 dev eth0
ip -n "$R" addr add 198.18.0.9/30 dev int3
ip -n "$CLIENT3" link set eth0 up
ip -n "$R" link set int3 up
ip -n "$CLIENT3" route add default via 198.18.0.9
ip -n "$R" addr add 203.0.113.5/32 dev ext0
nat_tmpdir
T=$NAT_TMP

# --- traffic ---------------------------------------------------------------

cat >"$T/gen.py" <<'PYEOF'
import select, signal, socket, sys, time

stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)

def report(path, **kv):
    with open(path, "w") as f:
        f.write(" ".join("%s=%d" % i for i in sorted(kv.items())) + "\n")

# server ADDRS PORT_UDP PORT_TCP: answers "ADDR:PORT" (UDP) or "ADDR PORT"
# (TCP) of what it sees; UDP from each address, so that the answer comes
# from the address asked.  Untranslated packets (client3's, while scr is
# gone) cannot be answered: no route.
def server(addrs, port_udp, port_tcp):
    us = []
    for a in addrs.split(","):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((a, port_udp))
        us.append(u)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port_tcp))
    t.listen(128)
    while not stop:
        try:
            r, _, _ = select.select(us + [t], [], [], 1)
        except InterruptedError:
            continue
        for u in us:
            if u in r:
                try:
                    data, peer = u.recvfrom(2048)
                    u.sendto(("%s:%d\n" % peer).encode(), peer)
                except OSError:
                    pass
        if t in r:
            try:
                c, peer = t.accept()
                c.settimeout(2)
                c.sendall(("%s %d\n" % peer).encode())
                c.close()
            except OSError:
                pass

# udp DSTS DPORT SPORT_MIN SPORT_MAX INTERVAL OUT: round robin over the
# source ports and the destinations, one datagram every INTERVAL s.
def udp(dsts, dport, smin, smax, interval, out):
    dsts = dsts.split(",")
    socks = []
    for p in range(smin, smax + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", p))
        s.setblocking(False)
        socks.append(s)
    n, i, sent, got = len(socks), 0, 0, 0
    nxt = time.monotonic()
    while not stop:
        now = time.monotonic()
        if now >= nxt:
            try:
                socks[i % n].sendto(b"x", (dsts[(i // n) % len(dsts)], dport))
                sent += 1
            except OSError:
                pass
            i += 1
            nxt = now + interval
        try:
            r, _, _ = select.select(socks, [], [], max(0, nxt - now))
        except InterruptedError:
            continue
        for s in r:
            try:
                while True:
                    s.recv(2048)
                    got += 1
            except OSError:
                pass
    report(out, sent=sent, answered=got)

# tcp DST PORT INTERVAL OUT: connections one after the other.
def tcp(dst, port, interval, out):
    ok = failed = 0
    while not stop:
        try:
            c = socket.create_connection((dst, port), timeout=5)
            if c.recv(100):
                ok += 1
            else:
                failed += 1
            c.close()
        except OSError:
            failed += 1
        time.sleep(interval)
    report(out, connected=ok, failed=failed)

# icmp DST INTERVAL OUT: echo requests, each from a new ping socket (its
# own identifier: a new session).  Not ping(8): its SO_TIMESTAMP toggles a
# static key per process, and code patching under TCG with two vCPUs
# sometimes oopses (int3) in the guest.
def icmp(dst, interval, out):
    ok = lost = 0
    while not stop:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM,
                          socket.IPPROTO_ICMP)
        s.settimeout(1)
        try:
            s.sendto(b"\x08\x00\x00\x00\x00\x00\x00\x01stress", (dst, 0))
            s.recv(2048)
            ok += 1
        except OSError:
            lost += 1
        s.close()
        time.sleep(interval)
    report(out, answered=ok, lost=lost)

a = sys.argv[2:]
if sys.argv[1] == "server":
    server(a[0], int(a[1]), int(a[2]))
elif sys.argv[1] == "icmp":
    icmp(a[0], float(a[1]), a[2])
elif sys.argv[1] == "udp":
    udp(a[0], int(a[1]), int(a[2]), int(a[3]), float(a[4]), a[5])
else:
    tcp(a[0], int(a[1]), float(a[2]), a[3])
PYEOF

gen() { # NS ARGS...: the generator, in the background
	local ns=$1; shift
	ip netns exec "$ns" python3 "$T/gen.py" "$@" >/dev/null \
		2>"$T/gen.$1.err" &
	TRAFFIC+=("$!")
	BG_PIDS+=("$!")
}
TRAFFIC=()

# What the server receives: from the external address, and untranslated
# from net0's or net1's hosts (never: they are always configured; the
# scratch network's host may get through untranslated while it is gone).
server_watch "$SERVER" 198.18.0.0/29

TO="timeout udp 2 timeout tcp-transitory 2 timeout tcp-established 5"
check "network add net0" natctl -n "$R" network add net0 \
	internal 198.18.0.0/30 external dev ext0 max-sessions 5000 $TO \
	timeout icmp 2
# net1's pings stay (icmp 600): sessions that outlive the traffic.
check "network add net1" natctl -n "$R" network add net1 \
	internal 198.18.0.4/30 external dev ext0 $TO timeout icmp 600

S=203.0.113.2,203.0.113.3,203.0.113.4
gen "$SERVER" server "$S" 9000 9100
wait_listen "$SERVER" udp 9000 && wait_listen "$SERVER" tcp 9100 ||
	{ fail "the server did not start"; exit $ret; }

gen "$CLIENT1" udp "$S" 9000 20000 20063 0.05 "$T/udp1"
gen "$CLIENT2" udp "$S" 9000 20000 20063 0.05 "$T/udp2"
gen "$CLIENT3" udp "$S" 9000 20000 20063 0.1 "$T/udp3"
gen "$CLIENT1" tcp 203.0.113.2 9100 0.3 "$T/tcp1"
gen "$CLIENT2" tcp 203.0.113.3 9100 0.3 "$T/tcp2"
# Inbound to net0's mapping, when there is one (nothing listens behind it).
gen "$SERVER" udp 203.0.113.1 7000 30000 30015 0.1 "$T/udpin"
for ns in "$CLIENT1" "$CLIENT2"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 0"
done
gen "$CLIENT1" icmp 203.0.113.2 0.3 "$T/icmp1"
gen "$CLIENT2" icmp 203.0.113.3 0.3 "$T/icmp2"

# --- writers ---------------------------------------------------------------

deadline=$(($(date +%s) + SECONDS_RUN))
running() { [ "$(date +%s)" -lt "$deadline" ]; }

# op WRITER CMD...: one change; logs "rc message" to $T/ops.WRITER.
op() {
	local w=$1 out rc
	shift
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	printf '%d %s\n' "$rc" "$(printf '%s' "$out" | tr '\n' ' ')" \
		>>"$T/ops.$w"
	return $rc
}

writer() { # NAME FUNCTION
	(
		while running; do
			"$2"
		done
	) &
	WRITERS+=("$!")
	BG_PIDS+=("$!")
}
WRITERS=()

w_scr() {
	op scr natctl -n "$R" network add scr internal 198.18.0.8/30 \
		external dev ext0 timeout udp 3
	op scr natctl -n "$R" network set scr external 203.0.113.5 timeout udp 2
	op scr natctl -n "$R" network set scr external dev ext0 max-sessions 300
	op scr natctl -n "$R" session flush network scr
	op scr natctl -n "$R" network delete scr
}

w_map() {
	op map natctl -n "$R" map add net0 udp 7000 to 198.18.0.2
	op map natctl -n "$R" map add net0 tcp 7001-7005 to 198.18.0.2:8001-8005
	sleep 0.2
	op map natctl -n "$R" map delete net0 udp 7000
	op map natctl -n "$R" map delete net0 tcp 7001-7005
}

w_flush() {
	op flush natctl -n "$R" session flush network net0
	op flush natctl -n "$R" session flush network net0 proto udp
	op flush natctl -n "$R" session flush network scr
	sleep 0.3
}

cat >"$T/s1.conf" <<'EOF'
network add s1 internal 198.18.10.0/24 external 203.0.113.1 timeout udp 5
map add s1 udp 203.0.113.1:7000 to 198.18.10.2
map add s1 tcp 203.0.113.5:8080 to 198.18.10.3:80
network set net0 timeout icmp 3
EOF
cat >"$T/s1-del.conf" <<'EOF'
network delete s1
network set net0 timeout icmp 2
EOF
cat >"$T/s2.conf" <<'EOF'
network add s2 internal 198.18.0.8/29 external 203.0.113.5 max-sessions 100
network add s3 internal 198.18.11.0/24 external dev ext0
EOF
cat >"$T/s2-del.conf" <<'EOF'
network delete s3
network delete s2
EOF
w_apply() {
	local f
	for f in s1 s2; do
		# Until it applies, then until its deletion does.
		until op apply natctl -n "$R" -f "$T/$f.conf"; do
			running || return
		done
		until op apply natctl -n "$R" -f "$T/$f-del.conf"; do
			running || return
		done
	done
}

w_set() {
	op set natctl -n "$R" network set net0 timeout udp 3 filtering \
		endpoint-independent
	op set natctl -n "$R" network set net0 max-sessions 4000 timeout udp 2
	op set natctl -n "$R" network set net0 filtering address-dependent \
		max-sessions 5000
	sleep 0.2
}

w_dump() {
	op dump sh -c "'$NATCTL' -n '$R' -j session show | jq -e 'type == \"array\"'"
	op dump sh -c "'$NATCTL' -n '$R' -j stats | jq -e .total.sessions_added"
	op dump natctl -n "$R" network show
	op dump natctl -n "$R" map show
}

# A router namespace with a network and live sessions, and its client,
# then deleted (the router first, or the pair at once).
churn_i=0
w_netns() {
	local r=$CHURN-r$churn_i c=$CHURN-c$churn_i
	churn_i=$((churn_i + 1))
	ip netns add "$r" && ip netns add "$c" || { op netns false; return; }
	ip -n "$r" link set lo up
	ip link add vr netns "$r" type veth peer name vc netns "$c"
	ip link add d0 netns "$r" type dummy
	ip -n "$r" addr add 198.18.0.1/24 dev vr
	ip -n "$r" addr add 203.0.113.1/24 dev d0
	ip -n "$c" addr add 198.18.0.2/24 dev vc
	ip -n "$r" link set vr up
	ip -n "$r" link set d0 up
	ip -n "$c" link set vc up
	ip -n "$c" route add default via 198.18.0.1
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
	op netns natctl -n "$r" network add n internal 198.18.0.0/24 \
		external dev d0
	# A few UDP flows (no ping(8): see gen.py).
	ip netns exec "$c" bash -c 'for p in 1 2 3; do
		echo x >/dev/udp/203.0.113.9/$p; done' 2>/dev/null
	op netns sh -c "[ \"\$('$NATCTL' -n '$r' -j stats |
		jq .total.sessions_active)\" -gt 0 ]"
	ip netns del "$r"
	ip netns del "$c"
}

writer scr w_scr
writer map w_map
writer flush w_flush
writer apply w_apply
writer set w_set
writer dump w_dump
writer netns w_netns

log "$SECONDS_RUN s of writers and traffic"
wait "${WRITERS[@]}"

# --- after the storm -----------------------------------------------------

# Failures a writer may see: another writer got there first.
expected='exists|no such network|overlaps network|has no such mapping|is mapped already|is an external address of|contains [0-9.]+, an external address'
total_ops=0
for w in scr map flush apply set dump netns; do
	n=$(wc -l <"$T/ops.$w")
	good=$(grep -c '^0 ' "$T/ops.$w")
	bad=$(grep -v '^0 ' "$T/ops.$w" | grep -cvE "$expected")
	total_ops=$((total_ops + n))
	log "writer $w: $n operations, $good succeeded, $((n - good - bad)) conflicts"
	check "writer $w succeeded at least once" test "$good" -gt 0
	check_eq "writer $w: every failure is a conflict" 0 "$bad"
	grep -v '^0 ' "$T/ops.$w" | grep -vE "$expected" | head -3 |
		sed 's/^/#   /'
done
log "$total_ops writer operations"
check_eq "the churned namespaces are gone" 0 \
	"$(ip netns list | grep -c "^$CHURN")"

# Still translating, right now.
check_match "net0 still translates UDP" '^203\.0\.113\.1:[0-9]+$' \
	"$(udp_client "$CLIENT1" -t 5 -b 0.0.0.0:41000 203.0.113.3:9000)"
check_match "net0 still translates TCP" '^203\.0\.113\.1:[0-9]+$' \
	"$(tcp_peer "$CLIENT1" 203.0.113.2 9100)"
check_match "net1 still translates UDP" '^203\.0\.113\.1:[0-9]+$' \
	"$(udp_client "$CLIENT2" -t 5 -b 0.0.0.0:41000 203.0.113.4:9000)"

# A traffic generator that died says why.
cat "$T"/gen.*.err | head -20 | sed 's/^/#   /'
bg_kill "${TRAFFIC[@]}"
for f in udp1 udp2 udp3 tcp1 tcp2 icmp1 icmp2 udpin; do
	log "$f: $(cat "$T/$f" 2>/dev/null)"
done
get() { sed -n "s/.*\<$2=\([0-9]*\).*/\1/p" "$T/$1"; }
check "net0's UDP flows were answered" test "$(get udp1 answered)" -gt 0
check "net1's UDP flows were answered" test "$(get udp2 answered)" -gt 0
check "net0's TCP connections succeeded" test "$(get tcp1 connected)" -gt 0
check "net1's TCP connections succeeded" test "$(get tcp2 connected)" -gt 0
check "the server saw translated traffic" \
	test "$(nft_packets "$SERVER" inet watch nat)" -gt 0
check_eq "nothing from net0 or net1 left untranslated" 0 \
	"$(nft_packets "$SERVER" inet watch leak)"

# stats NETWORK: "added expired deleted active" of one network or, for
# "", of the namespace.
stats() {
	natctl -n "$R" -j stats | jq -r --arg n "$1" \
		'(if $n == "" then .total else .networks[$n] end) |
		"\(.sessions_added) \(.sessions_expired) \(.sessions_deleted) \(.sessions_active)"'
}
no_udp_tcp() { no_session "$R" '.network == "net1" and .proto != "icmp"'; }

log "counters: $(natctl -n "$R" -j stats | jq -c '.networks | map_values(del(.. | select(. == 0)))')"

# net1: only its pings' sessions are left once the rest expired.
check "net1's UDP and TCP sessions expire" busywait 60000 no_udp_tcp
read -r a e d act <<<"$(stats net1)"
log "net1: added $a expired $e deleted $d active $act"
check "net1 has live (ICMP) sessions" test "$act" -gt 0
check_eq "net1: nothing deleted its sessions" 0 "$d"
check_eq "net1: sessions_added - sessions_expired == sessions_active" \
	"$act" $((a - e))
check_eq "net1: sessions_active is what session show lists" "$act" \
	"$(session_count "$R" network net1)"
check "session flush network net1" natctl -n "$R" session flush network net1

# Then nothing at all.
all_gone() { [ "$(counter "$R" sessions_active)" = 0 ]; }
check "every session expires" busywait 60000 all_gone
for n in net0 net1 ""; do
	read -r a e d act <<<"$(stats "$n")"
	log "${n:-namespace}: added $a expired $e deleted $d active $act"
	check_eq "${n:-namespace}: added - expired - deleted == active (0)" \
		"0 0" "$act $((a - e - d))"
done
check "sessions were created" test "$a" -gt 1000
check "sessions expired" test "$e" -gt 1000
check_eq "bytes_in_use 0: no session, mapping or host left" 0 \
	"$(counter "$R" bytes_in_use)"

# --- unload under traffic ---------------------------------------------------

TRAFFIC=()
gen "$CLIENT1" udp "$S" 9000 20000 20063 0.01 "$T/udp1b"
gen "$CLIENT2" udp "$S" 9000 20000 20063 0.01 "$T/udp2b"
gen "$CLIENT1" icmp 203.0.113.2 0.1 "$T/icmp1b"
sessions_now() { counter_above "$R" sessions_active 10; }
check "traffic again" busywait 30000 sessions_now
# Another namespace with a network stays alive across the unload.
r=$CHURN-keep
ip netns add "$r"
ip link add d0 netns "$r" type dummy
ip -n "$r" link set d0 up
ip -n "$r" addr add 192.0.2.1/24 dev d0
check "a network in another namespace" natctl -n "$r" network add k \
	internal 198.18.0.0/24 external dev d0
# Hooks of the same kinds as knat's stay registered across the unload, so
# the kernel's nf_hooks_needed static keys stay on: switching them off
# patches the code of ip_forward() and the like while the other vCPU runs
# it, and QEMU's TCG now and then executes the patch's int3 after it is
# gone ("Oops: int3" in ip_forward(), seen once here with nothing of
# knat's on the stack).  A real CPU does not; the test is about knat.
# (Chain names must not be nft keywords: "fwd" is one.)
check "hooks that keep the static keys on" ip netns exec "$r" nft -f - <<'NFT'
table ip keys {
	chain keep_pre { type filter hook prerouting priority 0; }
	chain keep_fwd { type filter hook forward priority 0; }
	chain keep_out { type filter hook output priority 0; }
}
NFT
check "rmmod knat under traffic" knat_unload
check_fail "module gone" knat_loaded
bg_kill "${TRAFFIC[@]}"
ip netns del "$r"
check "reload" knat_load
check_match "the family answers again" 'networks 0$' "$(natctl -n "$R" info)"

check_eq "no kernel warning" "$splats" "$(dmesg_splats)"

exit $ret
