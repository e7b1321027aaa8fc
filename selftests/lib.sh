#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for knat's selftests.  Source it from a test:
#
#	. "$(dirname "$0")/lib.sh"
#
# A test runs as root, creates its own network namespaces (named with a
# per-run suffix so that tests never collide), and cleans them up on exit.
# Exit codes follow kselftest: 0 pass, 1 fail, 4 skip.
#
# Environment:
#   KNAT_MODULE  path of knat.ko; tests that load or unload the module use
#                it, or `modprobe knat` when it is unset
#   NATCTL       natctl binary (default: the one built in tools/natctl, else
#                natctl from PATH)
#   KNAT_TIME_SCALE  a positive integer (default 1) by which a slow machine
#                multiplies how long the tests wait for something to
#                happen: busywait, a listener to start, a TCP or UDP
#                client's answer.  make check-debug sets it (a debug kernel
#                under TCG is several times slower than a stock one).  It
#                never changes what a test asserts: not the timeouts a test
#                configures, not the time a state must hold (holds), not
#                the expiry times checked in session show.

set -u

readonly ksft_pass=0
readonly ksft_fail=1
readonly ksft_skip=4

KSELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly KSELFTEST_DIR

if [ -z "${NATCTL:-}" ]; then
	if [ -x "$KSELFTEST_DIR/../tools/natctl/natctl" ]; then
		NATCTL=$KSELFTEST_DIR/../tools/natctl/natctl
	else
		NATCTL=natctl
	fi
fi

# The test's overall result: any failed check makes it fail.
ret=$ksft_pass

KNAT_TIME_SCALE=${KNAT_TIME_SCALE:-1}
case $KNAT_TIME_SCALE in
''|*[!0-9]*|0*)
	echo "KNAT_TIME_SCALE must be a positive integer, not '$KNAT_TIME_SCALE'" >&2
	exit 1 ;;
esac
# The UDP client (KNAT_UDP_PY) reads it too.
export KNAT_TIME_SCALE

# scaled N: N (a time to wait for something) times KNAT_TIME_SCALE.
scaled() {
	echo $(($1 * KNAT_TIME_SCALE))
}

# Namespaces made by setup_ns, deleted by cleanup_all_ns.
NS_LIST=()

log() { echo "# $*"; }

# ok MSG / fail MSG: record one check.
ok() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; ret=$ksft_fail; }

skip_test() {
	echo "SKIP: $*"
	exit $ksft_skip
}

# check MSG CMD...: the command must succeed.
check() {
	local msg=$1; shift
	local out
	if out=$("$@" 2>&1); then
		ok "$msg"
	else
		fail "$msg (\`$*\` exited $?)"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check_fail MSG CMD...: the command must fail.
check_fail() {
	local msg=$1; shift
	if "$@" >/dev/null 2>&1; then
		fail "$msg (\`$*\` succeeded)"
	else
		ok "$msg"
	fi
}

# check_eq MSG EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1 (expected '$2', got '$3')"
	fi
}

# check_match MSG REGEX TEXT: TEXT must match the extended regex.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1 (no match for /$2/ in: $3)"
	fi
}

# busywait TIMEOUT_MS CMD...: poll CMD until it succeeds or time runs out
# (TIMEOUT_MS times KNAT_TIME_SCALE).
busywait() {
	local timeout_ms=$(($1 * KNAT_TIME_SCALE)); shift
	local start now
	start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$timeout_ms" ] && return 1
		sleep 0.1
	done
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_test "must run as root"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_test "'$c' is not installed"
	done
}

# setup_ns VAR...: create one namespace per VAR with a unique name, store
# the name in VAR, bring up its loopback.
setup_ns() {
	local var name
	for var in "$@"; do
		name="${var}-$$-${RANDOM}"
		ip netns add "$name" || return 1
		ip -n "$name" link set lo up || return 1
		NS_LIST+=("$name")
		eval "$var=\$name"
	done
}

cleanup_all_ns() {
	local ns
	for ns in "${NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NS_LIST=()
}

knat_loaded() {
	[ -d /sys/module/knat ]
}

knat_load() {
	knat_loaded && return 0
	if [ -n "${KNAT_MODULE:-}" ]; then
		# Its dependencies (nf_defrag_ipv4) come from the running kernel.
		local deps
		deps=$(modinfo -F depends "$KNAT_MODULE" | tr , ' ')
		[ -z "$deps" ] || modprobe -a $deps || return 1
		insmod "$KNAT_MODULE"
	else
		modprobe knat
	fi
}

knat_unload() {
	knat_loaded || return 0
	rmmod knat
}

# Tests that unload the module call this first: it must be loadable again.
require_module() {
	if ! knat_loaded && [ -z "${KNAT_MODULE:-}" ] &&
	   ! modinfo knat >/dev/null 2>&1; then
		skip_test "knat is not loaded and KNAT_MODULE is not set"
	fi
	knat_load || skip_test "cannot load knat"
}

natctl() {
	"$NATCTL" "$@"
}

# setup_nat_topology: the standard NAT test network.
#
#   client1 198.18.0.2/30 --- 198.18.0.1 int1 \
#                                             router --- ext0 203.0.113.1/24
#   client2 198.18.0.6/30 --- 198.18.0.5 int2 /                 |
#                                         server 203.0.113.2/24, .3, .4 (eth0)
#
# Sets CLIENT1 CLIENT2 ROUTER SERVER (namespace names).  The server has no
# route back to 198.18.0.0/24: replies reach the clients only through NAT.
# No NAT network is configured.
setup_nat_topology() {
	setup_ns CLIENT1 CLIENT2 ROUTER SERVER || return 1
	ip link add int1 netns "$ROUTER" type veth peer name eth0 \
		netns "$CLIENT1" || return 1
	ip link add int2 netns "$ROUTER" type veth peer name eth0 \
		netns "$CLIENT2" || return 1
	ip link add ext0 netns "$ROUTER" type veth peer name eth0 \
		netns "$SERVER" || return 1

	ip -n "$CLIENT1" addr add 198.18.0.2/30 dev eth0
	ip -n "$CLIENT2" addr add 198.18.0.6/30 dev eth0
	ip -n "$ROUTER" addr add 198.18.0.1/30 dev int1
	ip -n "$ROUTER" addr add 198.18.0.5/30 dev int2
	ip -n "$ROUTER" addr add 203.0.113.1/24 dev ext0
	ip -n "$SERVER" addr add 203.0.113.2/24 dev eth0
	ip -n "$SERVER" addr add 203.0.113.3/24 dev eth0
	ip -n "$SERVER" addr add 203.0.113.4/24 dev eth0

	local ns dev
	for ns in "$CLIENT1" "$CLIENT2" "$SERVER"; do
		ip -n "$ns" link set eth0 up
	done
	for dev in int1 int2 ext0; do
		ip -n "$ROUTER" link set "$dev" up
	done
	ip -n "$CLIENT1" route add default via 198.18.0.1
	ip -n "$CLIENT2" route add default via 198.18.0.5
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	# Wait for duplicate address detection-free links to be usable.
	busywait 5000 ip netns exec "$CLIENT1" ping -c 1 -W 1 198.18.0.1 \
		>/dev/null
}

# counter NS NAME [NETWORK]: one natctl counter, from JSON.
counter() {
	local ns=$1 name=$2 net=${3:-}
	if [ -n "$net" ]; then
		natctl -n "$ns" -j stats network "$net" |
			jq -r --arg n "$net" --arg c "$name" '.networks[$n][$c]'
	else
		natctl -n "$ns" -j stats | jq -r --arg c "$name" '.total[$c]'
	fi
}

knat_cleanup() {
	cleanup_all_ns
}
trap knat_cleanup EXIT

# ---------------------------------------------------------------------------
# Helpers for the NAT traffic tests (nat_*.sh).
#
# Those tests kill their background servers on exit as well as deleting
# their namespaces:
#
#	trap nat_cleanup EXIT
#
# and start every server with bg_run, which remembers its pid.

BG_PIDS=()

# bg_run NS CMD...: run CMD in namespace NS in the background (its output
# discarded); nat_cleanup kills it.
bg_run() {
	local ns=$1; shift
	ip netns exec "$ns" "$@" >/dev/null 2>&1 &
	BG_PIDS+=("$!")
}

# bg_kill PID...: stop background commands (and the children they forked).
bg_kill() {
	local pid
	for pid in "$@"; do
		pkill -P "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

# nat_tmpdir: set NAT_TMP to a fresh directory, removed by nat_cleanup.
nat_tmpdir() {
	NAT_TMP=$(mktemp -d)
}

nat_cleanup() {
	bg_kill "${BG_PIDS[@]}"
	BG_PIDS=()
	knat_cleanup
	[ -z "${NAT_TMP:-}" ] || rm -rf "$NAT_TMP"
}

# listening NS tcp|udp PORT: something in NS listens on PORT.
listening() {
	local opt=-Hltn
	[ "$2" = udp ] && opt=-Hlun
	ip netns exec "$1" ss "$opt" "sport = :$3" | grep -q .
}

# wait_listen NS tcp|udp PORT: wait (up to 10 s, scaled) for a listener.
wait_listen() {
	busywait 10000 listening "$@"
}

# The servers that nat tests use: they answer with the address and port
# they see the client at, which is what the NAT must have rewritten.
#
# tcp_peer_server NS PORT: socat that writes "ADDR PORT\n" and closes
# (socat's address syntax does not allow a ':' in the command).
tcp_peer_server() {
	bg_run "$1" socat "TCP-LISTEN:$2,fork,reuseaddr" \
		SYSTEM:'echo $SOCAT_PEERADDR $SOCAT_PEERPORT'
	wait_listen "$1" tcp "$2"
}

# tcp_peer NS DST PORT [SPORT]: connect from NS, print "ADDR:PORT" as the
# server saw it.  Fails when the connection fails or nothing came back.
# (socat -u: only read.  Without it socat shuts its sending side down at
# once, on stdin's EOF, and both ends give up 0.5 s later, socat's default
# -t: too soon for a server on a slow emulated CPU, whose answer is lost.)
tcp_peer() {
	local opts="" out
	[ -n "${4:-}" ] && opts=",sourceport=$4,reuseaddr"
	out=$(ip netns exec "$1" timeout "$(scaled 20)" socat -u \
		-T "$(scaled 10)" \
		"TCP:$2:$3,connect-timeout=$(scaled 5)$opts" - \
		</dev/null 2>/dev/null) ||
		return 1
	[ -n "$out" ] || return 1
	echo "${out// /:}"
}

# A small UDP tool in python (scapy-free): servers that log what they get
# and answer, and a client that sends one datagram and waits for the answer.
#
#   server ADDR PORT MODE LOG    MODE: peer (answer "ADDR:PORT" of the
#                                sender), echo (send the datagram back),
#                                none (no answer).  Every datagram is
#                                logged to LOG as "ADDR:PORT LEN PAYLOAD"
#                                (PAYLOAD "-" unless a printable word).
#   client [-b ADDR:PORT] [-s SIZE] [-d TEXT] [-t SECS] [-n]
#          [-c COUNT -i SECS] DST:PORT
#                                sends TEXT (default "ping") or SIZE bytes,
#                                waits -t seconds (default 3, times
#                                KNAT_TIME_SCALE) for an answer
#                                and prints it (with -s: "len=N same=0|1").
#                                -n: send only; -c, -i: send COUNT times,
#                                SECS apart.  Exit 0 answered (or -n),
#                                1 no answer, 3 refused (ICMP unreachable).
read -r -d '' KNAT_UDP_PY <<'PYEOF'
import errno, os, socket, sys, time

def addr(s):
    a, p = s.rsplit(":", 1)
    return (a, int(p))

def server(a, port, mode, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, int(port)))
    while True:
        data, peer = s.recvfrom(65535)
        text = data[:64].decode("latin-1").strip()
        if not text or not all(33 <= ord(c) < 127 for c in text):
            text = "-"
        with open(log, "a") as f:
            f.write("%s:%d %d %s\n" % (peer[0], peer[1], len(data), text))
        if mode == "peer":
            s.sendto(("%s:%d\n" % peer).encode(), peer)
        elif mode == "echo":
            s.sendto(data, peer)

def client(args):
    bind, size, text, timeout, noreply = None, None, "ping", 3.0, False
    count, interval = 1, 1.0
    while len(args) > 1:
        o = args.pop(0)
        if o == "-b":
            bind = addr(args.pop(0))
        elif o == "-s":
            size = int(args.pop(0))
        elif o == "-d":
            text = args.pop(0)
        elif o == "-t":
            timeout = float(args.pop(0))
        elif o == "-n":
            noreply = True
        elif o == "-c":
            count = int(args.pop(0))
        elif o == "-i":
            interval = float(args.pop(0))
        else:
            sys.exit("bad option " + o)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Let the kernel fragment: no DF, no path MTU discovery.
    s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER, _DONT
    if bind:
        s.bind(bind)
    s.connect(addr(args[0]))
    data = text.encode()
    if size is not None:
        data = bytes((i * 7 + i // 256) & 0xff for i in range(size))
    for i in range(count):
        if i:
            time.sleep(interval)
        try:
            s.send(data)
        except ConnectionRefusedError:
            pass    # an ICMP error about the one before
    if noreply:
        return 0
    s.settimeout(timeout * int(os.environ.get("KNAT_TIME_SCALE", "1")))
    try:
        r = s.recv(65535)
    except socket.timeout:
        return 1
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            print("refused")
            return 3
        raise
    if size is not None:
        print("len=%d same=%d" % (len(r), int(r == data)))
    else:
        print(r.decode("ascii", "replace").strip())
    return 0

if sys.argv[1] == "server":
    server(*sys.argv[2:6])
else:
    sys.exit(client(sys.argv[2:]))
PYEOF

# udp_server NS ADDR PORT MODE LOG: start the python UDP server (above).
udp_server() {
	: >"$5"
	bg_run "$1" python3 -c "$KNAT_UDP_PY" server "$2" "$3" "$4" "$5"
	wait_listen "$1" udp "$3"
}

# udp_client NS [OPTIONS] DST:PORT: the python UDP client (above).
udp_client() {
	local ns=$1; shift
	ip netns exec "$ns" python3 -c "$KNAT_UDP_PY" client "$@"
}

# holds TIMEOUT_MS CMD...: CMD keeps succeeding, polled for TIMEOUT_MS
# (the opposite of busywait).
holds() {
	local timeout_ms=$1; shift
	local start now
	start=$(date +%s%3N)
	while true; do
		"$@" || return 1
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$timeout_ms" ] && return 0
		sleep 0.2
	done
}

# nat_sessions NS [ARGS]: natctl's sessions, as a JSON array.
nat_sessions() {
	local ns=$1; shift
	natctl -n "$ns" -j session show "$@"
}

# session_count NS [ARGS]: how many sessions natctl lists.
session_count() {
	nat_sessions "$@" | jq length
}

# has_session NS JQ_FILTER: a session matches the jq select() filter.
has_session() {
	nat_sessions "$1" | jq -e "map(select($2)) | length > 0" >/dev/null
}

# no_session NS JQ_FILTER: no session matches.
no_session() {
	nat_sessions "$1" | jq -e "map(select($2)) | length == 0" >/dev/null
}

# counter_is NS NAME VALUE [NETWORK]: for busywait.
counter_is() {
	[ "$(counter "$1" "$2" "${4:-}")" = "$3" ]
}

# counter_above NS NAME VALUE [NETWORK]: the counter exceeds VALUE.
counter_above() {
	local v
	v=$(counter "$1" "$2" "${4:-}")
	[ -n "$v" ] && [ "$v" != null ] && [ "$v" -gt "$3" ]
}

# nft_packets NS FAMILY TABLE COUNTER: packets of a named nft counter.
nft_packets() {
	ip netns exec "$1" nft -j list counter "$2" "$3" "$4" |
		jq -r '.nftables[] | select(.counter) | .counter.packets'
}

# server_watch NS [PREFIX]: count, in NS's prerouting, packets from the
# NAT's external address 203.0.113.1 (counter "nat"), from anywhere in
# PREFIX (default 198.18.0.0/15), i.e. untranslated (counter "leak"), and
# ICMP echo requests from 203.0.113.1 (counter "echo").
server_watch() {
	ip netns exec "$1" nft -f - <<-NFT
	table inet watch {
		counter nat { }
		counter leak { }
		counter echo { }
		chain pre {
			type filter hook prerouting priority -300; policy accept;
			ip saddr 203.0.113.1 counter name nat
			ip saddr ${2:-198.18.0.0/15} counter name leak
			ip saddr 203.0.113.1 icmp type echo-request counter name echo
		}
	}
	NFT
}

# dmesg_splats: how many kernel log lines mean trouble (compare a count
# taken before with one taken after).
dmesg_splats() {
	dmesg 2>/dev/null | grep -cE 'BUG:|WARNING:|Oops|general protection|refcount_t|list_(add|del) corruption|KASAN|UBSAN|kmemleak:.*leak|circular locking|suspicious RCU'
}

# pktgen_setup NS DEV COMMAND...: make kpktgend_0 of namespace NS inject
# into DEV's receive path (xmit_mode netif_receive), a new skb per packet,
# one packet per burst, 60-byte packets, no delay, to DEV's own MAC; then
# the test's own COMMANDs (count, address and port ranges...).  Start it
# with pktgen_start NS.
pktgen_setup() {
	local ns=$1 dev=$2 mac c
	shift 2
	mac=$(ip -n "$ns" -br link show "$dev" | awk '{print $3}')
	pktgen_cmd "$ns" kpktgend_0 rem_device_all
	pktgen_cmd "$ns" kpktgend_0 "add_device $dev"
	for c in "xmit_mode netif_receive" "clone_skb 0" "burst 1" \
		 "pkt_size 60" "delay 0" "dst_mac $mac" "$@"; do
		pktgen_cmd "$ns" "$dev" "$c"
	done
}

# pktgen_cmd NS FILE COMMAND: one pktgen command in namespace NS.
pktgen_cmd() {
	ip netns exec "$1" sh -c "echo '$3' > /proc/net/pktgen/$2"
}

# pktgen_start NS: run what pktgen_setup set up, until its count is sent
# (or until stopped, for count 0).
pktgen_start() {
	ip netns exec "$1" sh -c 'echo start > /proc/net/pktgen/pgctrl'
}

# pktgen_stop NS: stop it.
pktgen_stop() {
	ip netns exec "$1" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
}
