#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""knat benchmarks, the guest side: run as root in the test VM (bench/run
boots it).  Builds the set-ups in fresh network namespaces, drives the
workloads, and prints every raw measurement as one JSON line prefixed with
"KNAT-BENCH-RESULT "; bench/report.py turns that into medians, costs and
ratios.  Progress goes to stderr.

Topology of every set-up (one instance = three namespaces):

    gen 198.18.0.2/16 eth0 --- int1 198.18.0.1/16  router  ext0 203.0.113.1/24 --- eth0 sink 203.0.113.2/24
                                                                                   (+198.51.100.1/32)

pktgen, in xmit_mode netif_receive on the router's int1, injects UDP packets
straight into the router's receive path (burst 1, a new skb per packet), from
internal hosts 198.18.1.0/24... to remote hosts 198.51.100.1... routed via
the sink, which counts them at its ingress (nftables netdev, by source
address: translated or not) and drops them.

Set-ups ("kinds"):
  plain     IPv4 forwarding, no netfilter rule at all
  masq      nftables masquerade, conntrack
  knat      a knat network
  knat_fw   knat and an nftables conntrack firewall (forward policy drop)
  masq_fw   masquerade and the same firewall
"""

import argparse
import ctypes
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATCTL = os.path.join(TOP, "tools/natctl/natctl")
KVER = os.uname().release
KNAT_KO = os.path.join(TOP, "build", KVER, "kmod/knat.ko")

KINDS = ["plain", "masq", "knat", "knat_fw", "masq_fw"]
NAT_KINDS = {"masq", "knat", "knat_fw", "masq_fw"}
CT_KINDS = {"masq", "knat_fw", "masq_fw"}
KNAT_KINDS = {"knat", "knat_fw"}

EXT_ADDR = "203.0.113.1"
PORT_MIN, PORT_MAX = 1024, 65535
TIMEOUT_UDP = 3600          # both systems: no session expires mid-bench
MAX_SESSIONS = 2000000      # knat, explicit (the default scales with RAM)
CT_MAX = 2000000
CT_HASHSIZE = 1048576       # conntrack buckets for the 1M-session table

MAC_INT1, MAC_GEN = "02:00:00:00:00:01", "02:00:00:00:00:02"
MAC_EXT0, MAC_SINK = "02:00:00:00:01:01", "02:00:00:00:01:02"

T0 = time.monotonic()


def log(msg):
    print("# [%6.1fs] %s" % (time.monotonic() - T0, msg), file=sys.stderr,
          flush=True)


def sh(cmd, check=True, input=None, ns=None):
    """Run a command (a list), in namespace ns if given; return stdout."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if check and p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                p.stderr.strip()))
    return p.stdout


# ---- network namespaces, entered in-process (no fork per /proc access) ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
_home_ns = os.open("/proc/self/ns/net", os.O_RDONLY)


class InNs:
    """with InNs(name): the process is in that namespace (None: home)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        if self.name:
            fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET):
                    raise OSError(ctypes.get_errno(), "setns " + self.name)
            finally:
                os.close(fd)
        return self

    def __exit__(self, *a):
        if self.name and _libc.setns(_home_ns, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns home")


def write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def read(path):
    with open(path) as f:
        return f.read()


def sysctl(name, value):
    write("/proc/sys/" + name.replace(".", "/"), value)


# ---- memory accounting ----

def meminfo():
    out = {}
    for line in read("/proc/meminfo").splitlines():
        k, v = line.split(":")
        out[k] = int(v.split()[0]) * 1024
    return out


def slabinfo():
    """Bytes per slab cache (objects allocated in slabs, times their size)."""
    out = {}
    for line in read("/proc/slabinfo").splitlines()[2:]:
        f = line.split()
        out[f[0]] = int(f[2]) * int(f[3])
    return out


def settle(limit=60):
    """Wait until the kernel's slab memory stops moving (namespaces
    deleted earlier are freed asynchronously), so that a delta measures
    only what happens in between."""
    last = meminfo()["Slab"]
    for _ in range(limit):
        time.sleep(1)
        now = meminfo()["Slab"]
        if abs(now - last) < 256 * 1024:
            return
        last = now


def mem_snapshot():
    return {"meminfo": meminfo(), "slab": slabinfo()}


def mem_delta(a, b):
    m = {k: b["meminfo"][k] - a["meminfo"][k]
         for k in ("Slab", "SUnreclaim", "VmallocUsed", "MemFree", "Percpu")
         if k in a["meminfo"]}
    caches = {k: b["slab"].get(k, 0) - a["slab"].get(k, 0)
              for k in set(a["slab"]) | set(b["slab"])}
    top = sorted(((v, k) for k, v in caches.items() if v), reverse=True)[:8]
    m["top_caches"] = {k: v for v, k in top}
    return m


# ---- flows ----

def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class Flows:
    """hosts x ports x remotes UDP flows: pktgen steps the source address,
    source port and destination address together, one each packet, so with
    pairwise coprime counts every combination comes once per cycle."""

    def __init__(self, hosts, ports, remotes, count=None, port_base=10000,
                 host_net=1, remote_base=1):
        for x, y in ((hosts, ports), (hosts, remotes), (ports, remotes)):
            assert gcd(x, y) == 1, (hosts, ports, remotes)
        assert port_base + ports <= 65535 and remotes <= 254 and \
            hosts <= 65000
        self.hosts, self.ports, self.remotes = hosts, ports, remotes
        self.port_base = port_base
        # internal hosts from 198.18.HOST_NET.1, remote hosts from
        # 198.51.100.REMOTE_BASE
        self.host_net, self.remote_base = host_net, remote_base
        assert remote_base + remotes <= 255
        self.cycle = hosts * ports * remotes
        self.count = count or self.cycle
        assert self.count <= self.cycle
        self.endpoints = min(self.count, hosts * ports)

    def desc(self):
        return {"flows": self.count, "internal_hosts": self.hosts,
                "first_source_port": self.port_base,
                "first_internal_host": "198.18.%d.1" % self.host_net,
                "first_remote_host": "198.51.100.%d" % self.remote_base,
                "source_ports": self.ports, "remote_hosts": self.remotes,
                "internal_endpoints": self.endpoints}

    def pktgen(self):
        first = (198 << 24) | (18 << 16) | (self.host_net << 8) | 1
        ip = lambda n: "%d.%d.%d.%d" % (n >> 24, n >> 16 & 255, n >> 8 & 255,
                                        n & 255)
        return ["src_min " + ip(first), "src_max " + ip(first + self.hosts - 1),
                "dst_min 198.51.100.%d" % self.remote_base,
                "dst_max 198.51.100.%d" % (self.remote_base + self.remotes -
                                           1),
                # udp_src_max is exclusive when it differs from the min
                "udp_src_min %d" % self.port_base,
                "udp_src_max %d" % (self.port_base + (self.ports
                                                      if self.ports > 1
                                                      else 0)),
                "udp_dst_min 9", "udp_dst_max 9"]


# ---- a set-up ----

_serial = 0
LIVE = []


class Instance:
    def __init__(self, kind, tag):
        global _serial
        _serial += 1
        self.kind = kind
        base = "kb%d%s" % (_serial, tag)
        self.gen, self.rtr, self.sink = base + "g", base + "r", base + "s"
        self.iperf = None
        self.flows = None
        self.expected = 0       # sessions in the table, once warmed

    def build(self):
        LIVE.append(self)
        g, r, s = self.gen, self.rtr, self.sink
        sh(["ip", "-b", "-"], input="netns add %s\nnetns add %s\nnetns add %s\n"
           % (g, r, s))
        for ns in (g, r, s):
            with InNs(ns):
                sysctl("net.ipv6.conf.all.disable_ipv6", 1)
                sysctl("net.ipv6.conf.default.disable_ipv6", 1)
        sh(["ip", "-b", "-"], input=(
            "link add int1 netns {r} address {mi} type veth peer name eth0 "
            "netns {g} address {mg}\n"
            "link add ext0 netns {r} address {me} type veth peer name eth0 "
            "netns {s} address {ms}\n").format(
                r=r, g=g, s=s, mi=MAC_INT1, mg=MAC_GEN, me=MAC_EXT0,
                ms=MAC_SINK))
        sh(["ip", "-n", r, "-b", "-"], input="""link set lo up
addr add 198.18.0.1/16 dev int1
addr add 203.0.113.1/24 dev ext0
link set int1 up
link set ext0 up
route add 198.51.100.0/24 via 203.0.113.2
neigh replace 203.0.113.2 lladdr %s dev ext0 nud permanent
neigh replace 198.18.0.2 lladdr %s dev int1 nud permanent
""" % (MAC_SINK, MAC_GEN))
        sh(["ip", "-n", g, "-b", "-"], input="""link set lo up
addr add 198.18.0.2/16 dev eth0
link set eth0 up
route add default via 198.18.0.1
""")
        sink = """link set lo up
addr add 203.0.113.2/24 dev eth0
addr add 198.51.100.1/32 dev eth0
link set eth0 up
neigh replace 203.0.113.1 lladdr %s dev eth0 nud permanent
""" % MAC_EXT0
        if self.kind == "plain":
            # Plain routing: the sink needs the way back (iperf3).
            sink += "route add 198.18.0.0/16 via 203.0.113.1\n"
        sh(["ip", "-n", s, "-b", "-"], input=sink)
        with InNs(s):
            sh(["nft", "-f", "-"], input=SINK_NFT)
        with InNs(r):
            sysctl("net.ipv4.ip_forward", 1)
            if self.kind in ("masq", "masq_fw"):
                sh(["nft", "-f", "-"], input=MASQ_NFT)
            if self.kind in ("knat_fw", "masq_fw"):
                sh(["nft", "-f", "-"], input=FW_NFT)
            if self.kind in CT_KINDS:
                sysctl("net.netfilter.nf_conntrack_udp_timeout", TIMEOUT_UDP)
                sysctl("net.netfilter.nf_conntrack_udp_timeout_stream",
                       TIMEOUT_UDP)
            if self.kind in KNAT_KINDS:
                sh([NATCTL, "network", "add", "lan", "internal",
                    "198.18.0.0/16", "external", "dev", "ext0", "ports",
                    "%d-%d" % (PORT_MIN, PORT_MAX), "max-sessions",
                    str(MAX_SESSIONS), "timeout", "udp", str(TIMEOUT_UDP)])
        return self

    def destroy(self):
        if self.iperf:
            self.iperf.terminate()
            self.iperf.wait()
            self.iperf = None
        for ns in (self.gen, self.rtr, self.sink):
            sh(["ip", "netns", "del", ns], check=False)
        if self in LIVE:
            LIVE.remove(self)

    # -- pktgen --

    def pg(self, f, *lines):
        for line in lines:
            # pgctrl takes the last byte off as the newline
            write("/proc/net/pktgen/" + f, line + "\n")

    def pktgen_setup(self, flows):
        self.flows = flows
        with InNs(self.rtr):
            self.pg("kpktgend_0", "rem_device_all", "add_device int1")
            self.pg("int1", "xmit_mode netif_receive", "clone_skb 0",
                    "burst 1", "pkt_size 60", "delay 0",
                    "dst_mac " + MAC_INT1, *flows.pktgen())

    def pktgen_run(self, count):
        """Send count packets; return (packets sent, microseconds)."""
        with InNs(self.rtr):
            # "count" sets the result to "OK: count=N"; a finished run's
            # result is "OK: USEC(c...": wait for that, as pgctrl may
            # return before the thread even starts on a loaded machine.
            self.pg("int1", "count %d" % count)
            self.pg("pgctrl", "start")
            for _ in range(20 * (600 + count // 1000)):
                res = read("/proc/net/pktgen/int1")
                m = re.search(r"Result: OK: (\d+)\(c\d+\+d\d+\) usec, (\d+) ",
                              res)
                if m:
                    return int(m.group(2)), int(m.group(1))
                if re.search(r"Result: (Error|Stopped)", res):
                    raise RuntimeError("pktgen: " + res)
                time.sleep(0.05)
        raise RuntimeError("pktgen never finished")

    # -- counters --

    def sink_counters(self):
        """The sink's counters since the last call: {name: packets}."""
        with InNs(self.sink):
            out = json.loads(sh(["nft", "-j", "reset", "counters", "table",
                                 "netdev", "sink"]))
        c = {}
        for obj in out["nftables"]:
            if "counter" in obj:
                c[obj["counter"]["name"]] = obj["counter"]["packets"]
        return c

    def knat_stats(self):
        with InNs(self.rtr):
            return json.loads(sh([NATCTL, "-j", "stats"]))["total"]

    def ct_count(self):
        with InNs(self.rtr):
            return int(read("/proc/sys/net/netfilter/nf_conntrack_count"))

    def ct_stats(self):
        """/proc/net/stat/nf_conntrack summed over CPUs."""
        with InNs(self.rtr):
            lines = read("/proc/net/stat/nf_conntrack").split("\n")
        names = lines[0].split()
        tot = dict.fromkeys(names, 0)
        for line in lines[1:]:
            if line.strip():
                for n, v in zip(names, line.split()):
                    tot[n] += int(v, 16)
        tot.pop("entries", None)
        return tot

    def sessions(self):
        """Sessions of the NAT (knat), else conntrack entries, else 0."""
        if self.kind in KNAT_KINDS:
            return self.knat_stats()["sessions_active"]
        if self.kind in CT_KINDS:
            return self.ct_count()
        return 0

    def drops(self, st=None):
        """Drop counters (st: knat's statistics, if already read)."""
        d = {}
        if self.kind in KNAT_KINDS:
            st = st or self.knat_stats()
            d.update({"knat_" + k: v for k, v in st.items()
                      if k.startswith("drop_")})
        if self.kind in CT_KINDS:
            st = self.ct_stats()
            d.update({"ct_" + k: st.get(k, 0) for k in
                      ("insert_failed", "drop", "early_drop", "error",
                       "invalid")})
        return d

    def flush(self, remote=None, left=0):
        """Remove every session, or those with remote host @remote; @left
        should remain (W2 between runs)."""
        with InNs(self.rtr):
            if self.kind in KNAT_KINDS:
                sh([NATCTL, "session", "flush"] +
                   (["remote", remote] if remote else []))
            if self.kind in CT_KINDS:
                sh(["conntrack", "-D", "-d", remote] if remote else
                   ["conntrack", "-F"], check=False)
        # Both flushes are done when the command returns (the next run
        # checks that every packet made a session); conntrack's count
        # may lag a little.
        for _ in range(200):
            if self.kind not in CT_KINDS or self.ct_count() == left:
                return
            time.sleep(0.05)
        raise RuntimeError("%s: %d conntrack entries left after flush, "
                           "not %d" % (self.kind, self.ct_count(), left))

    def expect_src(self, c, delivered):
        """Did the sink see the right source of the UDP packets: translated
        for a NAT, not for plain forwarding?"""
        good, bad = ("xl", "raw") if self.kind in NAT_KINDS else ("raw", "xl")
        return c.get(good, 0) == delivered and c.get(bad, 0) == 0

    def expect_src_tcp(self, c):
        """The same for TCP to port 5201 (iperf3)."""
        want = c.get("all_tcp", 0) if self.kind in NAT_KINDS else 0
        return c.get("all_tcp", 0) > 0 and c.get("xl_tcp", 0) == want


SINK_NFT = """
table netdev sink {
	counter xl { }
	counter raw { }
	counter all_tcp { }
	counter xl_tcp { }
	chain in {
		type filter hook ingress device "eth0" priority 0; policy accept;
		ip saddr 203.0.113.1 udp dport 9 counter name "xl" drop
		udp dport 9 counter name "raw" drop
		tcp dport 5201 counter name "all_tcp"
		ip saddr 203.0.113.1 tcp dport 5201 counter name "xl_tcp"
	}
}
"""

MASQ_NFT = """
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "ext0" ip saddr 198.18.0.0/16 meta l4proto { tcp, udp } masquerade to :%d-%d
		oifname "ext0" ip saddr 198.18.0.0/16 masquerade
	}
}
""" % (PORT_MIN, PORT_MAX)

FW_NFT = """
table inet fw {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "int1" oifname "ext0" accept
	}
}
"""


# ---- workloads ----

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = args.runs or (3 if self.quick else 5)
        # Packets per measured run.
        self.count = args.count or (5000 if self.quick else 30000)
        self.count5 = args.count or (5000 if self.quick else 100000)
        self.records = []
        self.errors = []

    def record(self, **kw):
        self.records.append(kw)
        return kw

    def build(self, kinds, tag):
        t = time.monotonic()
        insts = {k: Instance(k, tag).build() for k in kinds}
        log("built %s (%.1fs)" % (" ".join(kinds), time.monotonic() - t))
        return insts

    def warm(self, inst, flows):
        """One packet per flow, each creating its session; check that all
        reached the sink, translated, and that the NAT holds them."""
        inst.pktgen_setup(flows)
        inst.sink_counters()
        before = inst.sessions()
        t = time.monotonic()
        sent, usec = inst.pktgen_run(flows.count)
        c = inst.sink_counters()
        got = c.get("xl", 0) + c.get("raw", 0)
        n = inst.sessions() - before
        ok = inst.expect_src(c, flows.count) and (
            inst.kind == "plain" or n == flows.count)
        inst.expected = before + n
        if not ok:
            self.fail("%s: warm-up of %d flows: sink %s, %d new sessions, "
                      "drops %s" % (inst.kind, flows.count, c, n,
                                    inst.drops()))
        log("  %s: %d flows warmed in %.1fs (%d/s), %d sessions" % (
            inst.kind, flows.count, time.monotonic() - t,
            flows.count * 1e6 / usec, inst.sessions()))
        return got, usec

    def fail(self, msg):
        log("ERROR: " + msg)
        self.errors.append(msg)

    def measure(self, inst, count, workload, **extra):
        """One measured pktgen run over established flows."""
        sent, usec = inst.pktgen_run(count)
        c = inst.sink_counters()
        delivered = c.get("xl", 0) + c.get("raw", 0)
        new = inst.sessions() - inst.expected
        ok = inst.expect_src(c, delivered) and delivered >= 0.99 * sent \
            and new == 0
        if not ok:
            self.fail("%s %s: sent %d, sink %s, %d new sessions, drops %s" % (
                workload, inst.kind, sent, c, new, inst.drops()))
        return self.record(workload=workload, kind=inst.kind, sent=sent,
                           delivered=delivered, usec=usec,
                           rate=delivered * 1e6 / usec,
                           translated=c.get("xl", 0), valid=ok,
                           **extra)

    def w1(self, insts):
        """Steady state: packets of established flows.  The flow counts'
        patterns are disjoint (other source ports), so each warm-up adds
        exactly its flows to the table."""
        specs = [Flows(1, 1, 1, port_base=10000),
                 Flows(8, 125, 1, port_base=20000),
                 Flows(16, 625, 1, port_base=30000) if self.quick else
                 Flows(32, 625, 3, port_base=30000)]
        for fl in specs:
            log("W1: %d established flows, %d packets per run, %d runs" % (
                fl.count, self.count, self.runs))
            for k in KINDS:
                self.warm(insts[k], fl)
            for r in range(self.runs):
                line = []
                for k in KINDS:
                    m = self.measure(insts[k], self.count, "W1",
                                     flows=fl.count, run=r,
                                     flow_shape=fl.desc())
                    line.append("%s %.0f" % (k, m["rate"]))
                log("  run %d: %s pps" % (r, ", ".join(line)))

    def w2(self, insts):
        """New flows: every packet one, each from a new internal endpoint
        (a new mapping and port for both NATs).  Twice: with the table
        flushed before each run (it starts empty), and with a standing
        table of other sessions, only the new flows flushed between runs
        (the tables need not grow: knat's hash tables, which grow and
        shrink with their contents, are already large)."""
        if self.quick:
            fl = Flows(8, 625, 1, port_base=40000)
            standing = Flows(2, 3125, 3, port_base=50000, host_net=2,
                             remote_base=2)
        else:
            # 25 000 standing mappings: knat's mapping tables hold 65 536
            # buckets, enough for 20 000 more without growing, and keep
            # them after a flush; 75 000 sessions: 131 072 buckets.
            fl = Flows(32, 625, 1, port_base=40000)
            standing = Flows(8, 3125, 3, port_base=50000, host_net=2,
                             remote_base=2)
        log("W2: every packet a new flow, %d per run, %d runs, empty "
            "tables" % (fl.count, self.runs))
        for k in KINDS:
            insts[k].pktgen_setup(fl)
            insts[k].sink_counters()
            insts[k].flush()
        self.w2_runs(insts, fl, "empty", 0)

        log("W2: every packet a new flow, %d per run, %d runs, beside a "
            "standing table of %d sessions" % (fl.count, self.runs,
                                               standing.count))
        for k in KINDS:
            self.warm(insts[k], standing)
            insts[k].pktgen_setup(fl)
        self.w2_runs(insts, fl, "standing", standing.count)
        for k in KINDS:
            insts[k].flush()

    def w2_runs(self, insts, fl, table, left):
        remote = "198.51.100.%d" % fl.remote_base
        d_last = {k: insts[k].drops() for k in KINDS}
        for r in range(self.runs):
            line = []
            for k in KINDS:
                i = insts[k]
                lk = left if k != "plain" else 0
                d0 = d_last[k]
                sent, usec = i.pktgen_run(fl.count)
                c = i.sink_counters()
                delivered = c.get("xl", 0) + c.get("raw", 0)
                st = i.knat_stats() if k in KNAT_KINDS else None
                n = (st["sessions_active"] if st else i.sessions()) - lk
                d1 = d_last[k] = i.drops(st)
                drops = {x: d1[x] - d0.get(x, 0) for x in d1}
                ok = i.expect_src(c, delivered) and delivered == sent and (
                    k == "plain" or n == delivered)
                if not ok:
                    self.fail("W2 %s: sent %d, sink %s, %d new sessions" % (
                        k, sent, c, n))
                self.record(workload="W2", kind=k, run=r, sent=sent,
                            delivered=delivered, usec=usec,
                            rate=delivered * 1e6 / usec, sessions=n,
                            table=table, standing=lk,
                            drops=drops, translated=c.get("xl", 0),
                            valid=ok, flow_shape=fl.desc())
                line.append("%s %.0f" % (k, delivered * 1e6 / usec))
                # Only the new flows go: no table left bigger than it was
                # to slow the others down.
                i.flush(remote if lk else None, lk)
            log("  run %d: %s flows/s" % (r, ", ".join(line)))

    def w3(self, insts):
        # A fixed amount of data: with instruction counting a second of
        # guest time is many seconds of the host's, and slow start takes
        # no time on a veth.
        size = self.args.iperf_bytes or ("32M" if self.quick else "128M")
        streams = 4
        log("W3: iperf3, %d streams, %s bytes, %d runs" % (
            streams, size, self.runs))
        for i in insts.values():
            i.iperf = subprocess.Popen(
                ["ip", "netns", "exec", i.sink, "iperf3", "-s", "-B",
                 "198.51.100.1"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        for i in insts.values():
            for _ in range(100):
                if ":5201" in sh(["ss", "-Hltn"], ns=i.sink):
                    break
                time.sleep(0.1)
        for r in range(self.runs):
            line = []
            for k in KINDS:
                i = insts[k]
                i.sink_counters()
                p = subprocess.run(
                    ["ip", "netns", "exec", i.gen, "iperf3", "-c",
                     "198.51.100.1", "-P", str(streams), "-n", size, "-J"],
                    capture_output=True, text=True)
                c = i.sink_counters()
                try:
                    res = json.loads(p.stdout)
                    bps = res["end"]["sum_received"]["bits_per_second"]
                except (ValueError, KeyError):
                    bps = 0
                seg = c.get("all_tcp", 0)
                ok = p.returncode == 0 and bps > 0 and i.expect_src_tcp(c)
                if not ok:
                    self.fail("W3 %s: iperf3 exit %d, sink %s: %s" % (
                        k, p.returncode, c, p.stderr.strip()[-300:]))
                self.record(workload="W3", kind=k, run=r, rate=bps / 1e9,
                            unit="Gbit/s", streams=streams, bytes=size,
                            sink_segments=seg, valid=ok)
                line.append("%s %.2f" % (k, bps / 1e9))
            log("  run %d: %s Gbit/s" % (r, ", ".join(line)))

    def fill(self, inst, fl):
        """W4: memory before and after fl.count new sessions."""
        settle()
        a = mem_snapshot()
        self.warm(inst, fl)
        time.sleep(1)
        b = mem_snapshot()
        d = mem_delta(a, b)
        n = inst.sessions()
        rec = dict(workload="W4", kind=inst.kind, sessions=n,
                   flow_shape=fl.desc(), mem=d,
                   slab_per_session=d["Slab"] / n,
                   vmalloc_per_session=d["VmallocUsed"] / n,
                   memfree_per_session=-d["MemFree"] / n,
                   valid=n == fl.count)
        if inst.kind in KNAT_KINDS:
            rec["knat_bytes_in_use_per_session"] = \
                inst.knat_stats()["bytes_in_use"] / n
        if inst.kind in CT_KINDS:
            rec["ct_hash_buckets"] = ct_hashsize()
        self.records.append(rec)
        log("  W4 %s %d sessions: slab %.0f B/session, vmalloc %.0f, "
            "MemFree %.0f" % (inst.kind, n, rec["slab_per_session"],
                              rec["vmalloc_per_session"],
                              rec["memfree_per_session"]))

    def w6(self):
        """W1 with many networks (issue 13 item 10): the same 1 000
        established flows through knat's network "lan", with 1, 100 and
        1 000 networks in the namespace, each beside plain forwarding in a
        fresh pair of set-ups.  The other networks are the per-packet
        lookups' worst case: internal prefixes of three lengths (/26, /28,
        /30) in 198.19.0.0/16, 80 other external addresses, and up to 50
        1:1 mappings and 100 port mappings of lan's, none of which the
        flows use."""
        fl = Flows(8, 125, 1, port_base=20000)
        counts = (1, 1000) if self.quick else (1, 100, 1000)
        for nn in counts:
            log("W6: %d networks, %d established flows, %d packets per run, "
                "%d runs" % (nn, fl.count, self.count, self.runs))
            insts = self.build(["plain", "knat"], "n")
            if nn > 1:
                conf = self.w6_conf(nn)
                path = "/tmp/w6-%d.conf" % nn
                with open(path, "w") as f:
                    f.write(conf)
                t = time.monotonic()
                with InNs(insts["knat"].rtr):
                    sh([NATCTL, "-f", path])
                    got = len(json.loads(sh([NATCTL, "-j", "network",
                                             "show"])))
                log("  applied %d lines in %.1fs: %d networks" % (
                    conf.count("\n"), time.monotonic() - t, got))
                if got != nn:
                    self.fail("W6: %d networks, not %d" % (got, nn))
            for k in ("plain", "knat"):
                self.warm(insts[k], fl)
            for r in range(self.runs):
                line = []
                for k in ("plain", "knat"):
                    m = self.measure(insts[k], self.count, "W6",
                                     networks=nn, flows=fl.count, run=r,
                                     flow_shape=fl.desc())
                    line.append("%s %.0f" % (k, m["rate"]))
                log("  run %d: %s pps" % (r, ", ".join(line)))
            for i in insts.values():
                i.destroy()

    @staticmethod
    def w6_conf(nn):
        """natctl -f lines for nn - 1 networks besides lan."""
        lines = []
        for i in range(1, nn):
            b = i - 1
            plen = 26 + 2 * (i % 3)
            lines.append("network add x%d internal 198.19.%d.%d/%d external "
                         "203.0.113.%d" % (i, b // 4, (b % 4) * 64, plen,
                                           10 + i % 80))
        for j in range(min(50, nn - 1)):
            lines.append("map add x%d ip 203.0.113.%d to 198.19.%d.%d" % (
                j + 1, 100 + j, j // 4, (j % 4) * 64 + 1))
        for j in range(min(100, nn - 1)):
            lines.append("map add lan tcp %d to 198.18.2.%d:80" % (
                2000 + j, 1 + j))
        return "".join(line + "\n" for line in lines)

    def w4_w5(self):
        """W4, memory per session at two table sizes, and W5, W1 over a
        table of the larger size against 1000 sessions.

        W5 runs in phases, each interleaving its set-ups run by run: first
        1000-session tables of both NATs beside plain forwarding (and no
        large table anywhere); then, one NAT at a time, its large table
        beside plain forwarding.  A large table can cost the machine CPU
        time even without traffic (a garbage collector walking it); the
        plain runs of each phase show that, and the report gives the cost
        with and without it."""
        if self.quick:
            small, big = Flows(16, 25, 27, 10000), Flows(32, 125, 27, 50000)
            reps_small = 1
        else:
            small, big = Flows(32, 125, 27, 100000), \
                Flows(64, 625, 27, 1000000)
            reps_small = 3
        nats = ("masq", "knat")
        log("W4: memory at %d sessions, %d runs" % (small.count, reps_small))
        for r in range(reps_small):
            insts = self.build(nats, "m")
            for k in nats:
                self.fill(insts[k], small)
            for i in insts.values():
                i.destroy()

        small5 = Flows(8, 125, 1)
        count = self.count5
        log("W5: tables of %d sessions against %d, %d packets per run, "
            "%d runs" % (big.count, small5.count, count, self.runs))
        insts = self.build(["plain", "masq", "knat"], "s")
        pb = Instance("plain", "s").build()
        pb.pktgen_setup(big)
        sets = [(pb, big)]
        for k in ("plain", "masq", "knat"):
            self.warm(insts[k], small5)
            sets.append((insts[k], small5))
        self.w5_phase("small", sets, count)
        for inst, _ in sets:
            inst.destroy()

        default_hash = ct_hashsize()
        for k in ("knat", "masq"):
            log("W4: memory at %d sessions, %s" % (big.count, k))
            if k == "masq" and big.count > default_hash:
                ct_hashsize(CT_HASHSIZE)
            ins = self.build([k, "plain"], "b")
            self.fill(ins[k], big)
            ins["plain"].pktgen_setup(big)
            # Longer runs: a garbage collector walking a large table works
            # in bursts, which a short run catches or misses.
            self.w5_phase("big-" + k, [(ins["plain"], big), (ins[k], big)],
                          3 * count)
            for i in ins.values():
                i.destroy()
        ct_hashsize(default_hash)

    def w5_phase(self, phase, sets, count):
        for r in range(self.runs):
            line = []
            for inst, fl in sets:
                m = self.measure(inst, count, "W5", pattern=fl.count,
                                 sessions=inst.sessions(), phase=phase,
                                 run=r)
                line.append("%s/%d %.0f" % (inst.kind, fl.count, m["rate"]))
            log("  W5 %s run %d: %s pps" % (phase, r, ", ".join(line)))


def setup_host():
    for m in ("pktgen", "nf_conntrack", "nf_nat", "nf_tables", "nft_masq",
              "nf_defrag_ipv4"):
        sh(["modprobe", m])
    if not os.path.isdir("/sys/module/knat"):
        sh(["insmod", KNAT_KO])
    sysctl("net.netfilter.nf_conntrack_max", CT_MAX)


CT_HASHSIZE_PATH = "/sys/module/nf_conntrack/parameters/hashsize"


def ct_hashsize(n=None):
    """conntrack's hash table size (global): read it, or set it.  It is
    left at the kernel's default (scaled to RAM) except while masquerade
    holds W4's and W5's largest table: its garbage collector walks every
    bucket, so a large table costs every other measurement time."""
    if n:
        write(CT_HASHSIZE_PATH, n)
    return int(read(CT_HASHSIZE_PATH))


def machine():
    cpu = re.search(r"model name\s*:\s*(.*)", read("/proc/cpuinfo"))
    return {"kernel": KVER, "guest_cpus": os.cpu_count(),
            "guest_cpu_model": cpu.group(1) if cpu else "?",
            "guest_mem_bytes": meminfo()["MemTotal"],
            "ct_hashsize_default": ct_hashsize()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--count", type=int, help="packets per measured run")
    ap.add_argument("--iperf-bytes", help="bytes per iperf3 run (W3)")
    ap.add_argument("--clock", default="wall",
                    help="what guest time is: wall, or icount:SHIFT")
    ap.add_argument("--only", default="W1,W2,W3,W4,W6",
                    help="workloads, comma-separated (W4 includes W5)")
    args = ap.parse_args()

    start = time.time()
    setup_host()
    b = Bench(args)
    only = args.only.split(",")
    try:
        if set(only) & {"W1", "W2", "W3"}:
            insts = b.build(KINDS, "w")
            for name, fn in (("W1", b.w1), ("W2", b.w2), ("W3", b.w3)):
                if name in only:
                    t = time.monotonic()
                    fn(insts)
                    log("%s done in %.0fs" % (name, time.monotonic() - t))
            for i in insts.values():
                i.destroy()
        if "W6" in only:
            t = time.monotonic()
            b.w6()
            log("W6 done in %.0fs" % (time.monotonic() - t))
        if "W4" in only:
            t = time.monotonic()
            b.w4_w5()
            log("W4, W5 done in %.0fs" % (time.monotonic() - t))
    except Exception as e:  # report what we have, and the error
        b.fail("%s: %s" % (type(e).__name__, e))
        raise
    finally:
        for i in list(LIVE):
            i.destroy()
        full = set(only) >= {"W1", "W2", "W3", "W4", "W6"}
        out = {"machine": machine(),
               "mode": ("quick" if args.quick else "full") if full else
               "partial", "only": only,
               "clock": args.clock, "packets_per_run": b.count,
               "runs": b.runs, "started": start,
               "guest_seconds": time.time() - start, "errors": b.errors,
               "records": b.records}
        print("KNAT-BENCH-RESULT " + json.dumps(out), flush=True)
    return 1 if b.errors else 0


if __name__ == "__main__":
    sys.exit(main())
