#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Profile a set-up under one of the bench's workloads with perf, in the
test VM (best with instruction counting, where cpu-clock samples count
instructions):

  scripts/vm-run -k 6.12 -m 3G -i 1 -- bench/profile.py KIND WORKLOAD [N]

KIND: plain, masq, knat, knat_fw, masq_fw.  WORKLOAD:
  w1     N (default 1000) established flows, 100 000 packets
  w2     N (default 20 000) new flows, each a new internal endpoint
  w2s    the same beside a standing table of 75 000 sessions (as W2)
  idle   a table of N (default 1 000 000) sessions, no traffic, 5 s
Prints perf's flat profile (whole system, both CPUs) and, for w1 and w2,
the rate.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest as g  # noqa: E402


def flows_for(n, new):
    if new:
        if n == 20000:      # as W2
            return g.Flows(32, 625, 1, port_base=40000)
        return g.Flows(64, 625, 1, count=n, port_base=40000)
    for f in (g.Flows(1, 1, 1), g.Flows(8, 125, 1), g.Flows(32, 625, 3),
              g.Flows(64, 625, 27, count=n)):
        if f.count >= n:
            return g.Flows(f.hosts, f.ports, f.remotes, count=n)
    raise SystemExit("too many flows")


# The threads doing the work: pktgen's, softirqs, workers (garbage
# collectors, rhashtable resizing).
COMMS = ["kpktgend_0", "kpktgend_1", "ksoftirqd/0", "ksoftirqd/1"] + \
    ["kworker/%d:%d" % (c, i) for c in (0, 1) for i in range(8)] + \
    ["kworker/u4:%d" % i for i in range(8)] + \
    ["kworker/u8:%d" % i for i in range(8)]


FREQ = int(os.environ.get("PROFILE_FREQ", "20000"))
IDLE = {"pv_native_safe_halt", "default_idle", "do_idle", "cpuidle_idle_call",
        "default_idle_call", "native_safe_halt", "arch_cpu_idle"}


def report(packets):
    """perf's samples by module and by function, idle and user space
    (the script itself) excluded, as instructions per packet (cpu-clock
    samples at PROFILE_FREQ, default 20 kHz, of guest time; with -icount
    shift=1, 1 ns is half an instruction) and as shares.  Returns the
    number of samples, idle included."""
    rep = subprocess.run(["perf", "report", "-i", "/tmp/perf.data",
                          "--stdio", "--no-children", "-n", "--sort",
                          "dso,sym"], capture_output=True, text=True)
    syms, dsos, total, every = [], {}, 0, 0
    for line in rep.stdout.splitlines():
        f = line.split()
        if len(f) < 5 or line.startswith("#") or not f[0].endswith("%"):
            continue
        n, dso, sym = int(f[1]), f[2], f[-1]
        every += n
        if sym in IDLE or not dso.startswith("["):
            continue
        total += n
        dsos[dso] = dsos.get(dso, 0) + n
        syms.append((n, dso, sym))
    per = 1e9 / FREQ / 2 / max(packets, 1)  # instructions/sample/packet
    print("kernel, busy: %d samples, %.0f instructions per packet" % (
        total, total * per))
    for dso, n in sorted(dsos.items(), key=lambda x: -x[1]):
        print("  %-22s %6.0f instr/packet %5.1f%%" % (dso, n * per,
                                                     100 * n / total))
    print("functions:")
    for n, dso, sym in sorted(syms, reverse=True)[:45]:
        print("  %-40s %6.0f %5.1f%%" % (sym, n * per, 100 * n / total))
    return every


def inclusive(packets, every):
    """With PROFILE_GRAPH=1: each function with what it calls, in
    instructions per packet."""
    rep = subprocess.run(["perf", "report", "-i", "/tmp/perf.data",
                          "--stdio", "--children", "--sort", "sym",
                          "-g", "none", "--percent-limit", "0.5"],
                         capture_output=True, text=True)
    per = 1e9 / FREQ / 2 / max(packets, 1)
    print("inclusive (function and its callees), instructions per packet:")
    for line in rep.stdout.splitlines():
        f = line.split()
        if len(f) < 4 or line.startswith("#") or not f[0].endswith("%"):
            continue
        print("  %-40s %6.0f" % (f[-1], float(f[0][:-1]) / 100 * every *
                                 per))


def child(rtr, what):
    if what == "idle":
        time.sleep(5)
        print(0, 1)
        return
    inst = g.Instance.__new__(g.Instance)
    inst.rtr = rtr
    print(*inst.pktgen_run(int(what)))


def main():
    if sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3])
    kind, wl = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else \
        {"w1": 1000, "w2": 20000, "w2s": 20000, "idle": 1000000}[wl]
    g.setup_host()

    class Args:
        quick, runs, count, iperf_bytes = True, 1, None, None
    b = g.Bench(Args)
    inst = g.Instance(kind, "p").build()
    try:
        fl = flows_for(n, wl.startswith("w2"))
        if wl == "w2s":
            b.warm(inst, g.Flows(8, 3125, 3, port_base=50000, host_net=2,
                                 remote_base=2))
        if wl in ("w1", "idle"):
            b.warm(inst, fl)
        else:
            inst.pktgen_setup(fl)
        # perf runs the traffic (this script again, as --child), so that
        # it records exactly that.
        what = {"w1": os.environ.get("PROFILE_PACKETS", "100000"),
                "w2": str(n), "w2s": str(n),
                "idle": "idle"}[wl]
        graph = ["-g"] if os.environ.get("PROFILE_GRAPH") else []
        perf = subprocess.run(["perf", "record", "-a"] + graph +
                              ["-e", "cpu-clock",
                               "-F", os.environ.get("PROFILE_FREQ", "20000"), "-o", "/tmp/perf.data", "--",
                               sys.executable, __file__, "--child",
                               inst.rtr, what], capture_output=True,
                              text=True)
        print(perf.stderr, file=sys.stderr)
        sent, usec = (int(x) for x in perf.stdout.split()[-2:])
        if sent:
            g.log("%s %s %d: %.0f packets/s" % (kind, wl, n,
                                                sent * 1e6 / usec))
        g.log("sessions %d, drops %s" % (inst.sessions(), inst.drops()))
        every = report(sent)
        if graph:
            inclusive(sent, every)
    finally:
        inst.destroy()


if __name__ == "__main__":
    main()
