#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A spoofed SYN flood at a port mapping, and the real users beside it
(nat_synflood.sh).

    nat_synflood.py ROUTER C1 SERVER MACS RATE SECONDS AFTER

MACS: "server,ext0".  For SECONDS, RATE SYNs a second leave the server's
eth0 for 203.0.113.1:8080 from sources all over 192.0.2.0/24 and
198.51.100.0/24 (the router routes them to the server's link, where
nothing answers the SYN/ACKs).  Meanwhile, and for AFTER seconds after it,
twice a second:
  - inside:  client1 opens a new TCP connection to 203.0.113.2:9000 (its
             server answers with the address it saw: 203.0.113.1);
  - mapped:  the server (203.0.113.2, a real client) connects to
             203.0.113.1:8080, the mapping to client2:80 (which answers
             with the address it saw: 203.0.113.2).
Prints, for each 10 s of the flood and after it, the SYNs sent and the
probes that got their answer; then "RESULT k=v ..." for the shell test.
"""
import ctypes
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nat_malformed import csum, ip, pseudo  # noqa: E402

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
EXT = "203.0.113.1"


def setns_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def socket_in(ns, *args):
    """A socket of namespace @ns, made from this thread."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        setns_path("/run/netns/" + ns)
        return socket.socket(*args)
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)


def syn_frame(dst_mac, src_mac, src, sport, ident):
    tcp = struct.pack("!HHIIBBHHH", sport, 8080, random.getrandbits(32), 0,
                      5 << 4, 0x02, 65535, 0, 0)
    c = csum(pseudo(src, EXT, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, ident, 0, 64, 6, 0,
                    ip(src), ip(EXT))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return dst_mac + src_mac + b"\x08\x00" + h + tcp


class Flood:
    def __init__(self, server, macs, rate, seconds):
        m = macs.split(",")
        src_mac = bytes.fromhex(m[0].replace(":", ""))
        dst_mac = bytes.fromhex(m[1].replace(":", ""))
        self.sock = socket_in(server, socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(3))
        self.sock.bind(("eth0", 0))
        self.rate, self.seconds = rate, seconds
        # Distinct (source, port) pairs, made beforehand: sending must not
        # wait on checksums.
        n = min(rate * seconds, 20000)
        self.frames = []
        for i in range(n):
            net = "192.0.2." if i % 2 else "198.51.100."
            src = net + str(1 + random.randrange(254))
            self.frames.append(syn_frame(dst_mac, src_mac, src,
                                         1024 + random.randrange(64000),
                                         i & 0xffff))
        self.sent = []          # (time since start, count)
        self.start = None

    def run(self):
        self.start = time.monotonic()
        total = self.rate * self.seconds
        i = 0
        while i < total:
            now = time.monotonic() - self.start
            if now >= self.seconds:
                break
            due = min(total, int(now * self.rate) + 1)
            while i < due:
                try:
                    self.sock.send(self.frames[i % len(self.frames)])
                except OSError:
                    time.sleep(0.001)
                    continue
                i += 1
            self.sent.append((now, i))
            time.sleep(0.005)
        self.total = i
        self.end = time.monotonic() - self.start


def probe(ns, addr, port, want):
    """Connect from @ns to @addr:@port; the answer must start with @want."""
    s = socket_in(ns, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((addr, port))
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").startswith(want)
    except OSError:
        return False
    finally:
        s.close()


def main():
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    router, c1, server, macs = sys.argv[1:5]
    rate, seconds, after = (int(a) for a in sys.argv[5:8])
    flood = Flood(server, macs, rate, seconds)
    print("# %d SYN frames made; flooding %d/s for %d s" %
          (len(flood.frames), rate, seconds), flush=True)

    results = []        # (time, kind, ok)
    t = threading.Thread(target=flood.run)
    t.start()
    while flood.start is None:
        time.sleep(0.01)
    while True:
        now = time.monotonic() - flood.start
        if now >= seconds + after:
            break
        results.append((now, "inside",
                        probe(c1, "203.0.113.2", 9000, "203.0.113.1")))
        results.append((time.monotonic() - flood.start, "mapped",
                        probe(server, EXT, 8080, "203.0.113.2")))
        time.sleep(max(0.0, 0.5 - (time.monotonic() - flood.start - now)))
    t.join()

    print("# %d SYNs sent in %.1f s (%.0f/s)" %
          (flood.total, flood.end, flood.total / max(flood.end, 0.001)))
    print("# seconds   SYNs sent   inside new flows ok   mapped connections ok")
    edges = list(range(0, seconds, 10)) + [seconds, seconds + after]
    for lo, hi in zip(edges, edges[1:]):
        sent = [c for (ts, c) in flood.sent if ts < hi]
        before = [c for (ts, c) in flood.sent if ts < lo]
        n = (sent[-1] if sent else 0) - (before[-1] if before else 0)
        row = {}
        for kind in ("inside", "mapped"):
            r = [ok for (ts, k, ok) in results if k == kind and lo <= ts < hi]
            row[kind] = "%d/%d" % (sum(r), len(r))
        label = "%3d-%-3d%s" % (lo, hi, " (after)" if lo >= seconds else "")
        print("# %-14s %7d   %19s   %21s" % (label, n, row["inside"],
                                              row["mapped"]))
    during = [(k, ok) for (ts, k, ok) in results if ts < seconds]
    after_r = [(k, ok) for (ts, k, ok) in results if ts >= seconds]

    def count(rs, kind):
        r = [ok for (k, ok) in rs if k == kind]
        return sum(r), len(r)
    io, it = count(during, "inside")
    mo, mt = count(during, "mapped")
    ai, ait = count(after_r, "inside")
    am, amt = count(after_r, "mapped")
    print("RESULT syns=%d secs=%.1f inside_ok=%d inside=%d mapped_ok=%d "
          "mapped=%d after_inside_ok=%d after_inside=%d after_mapped_ok=%d "
          "after_mapped=%d" % (flood.total, flood.end, io, it, mo, mt, ai, ait,
                               am, amt), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
