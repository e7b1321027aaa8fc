#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TCP from outside through a port mapping, as a blind attacker sends it
(nat_tcp_inbound.sh).

    nat_tcp_inbound.py ROUTER C2 SERVER MACS TCP_SYN

MACS: "c2,int2,server,ext0".  The mapping 203.0.113.1:8080 -> 198.18.0.6:80
(a listening socket) is reached from spoofed sources in 192.0.2.0/24, which
the router routes to the server's link: the server's own stack never
answers for them, so every segment of the handshake is this script's.
Frames are sent on a packet socket from the server's eth0 and watched on
packet sockets on the server's and client2's eth0.

Checks, each with the packets that arrive, the session and the counters:
  - a segment that is not a SYN, to the mapping, makes no session and is
    dropped under drop_tcp_no_syn;
  - a SYN answered by the internal host's SYN/ACK is embryonic (syn-recv,
    expiring within tcp-syn), not established;
  - an ACK that does not acknowledge the SYN/ACK is dropped under
    drop_tcp_invalid; the one that does establishes the session;
  - an RST far from the window is dropped (drop_tcp_invalid) and leaves
    the session established; one in the window closes it.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nat_malformed import ipv4, packet_socket, pseudo, csum  # noqa: E402

NATCTL = os.environ.get("NATCTL", "natctl")
WAIT = float(os.environ.get("KNAT_MALFORMED_WAIT", "0.4"))
EXT, C2 = "203.0.113.1", "198.18.0.6"
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def tcp_seg(src, dst, sp, dp, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff,
                    ack & 0xffffffff, 5 << 4, flags, 65535, 0, 0) + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]


class Probe:
    def __init__(self, router, c2, server, macs, tcp_syn):
        m = macs.split(",")
        self.router = router
        self.tcp_syn = int(tcp_syn)
        self.c2 = packet_socket(c2)
        self.server = packet_socket(server)
        self.src_mac = bytes.fromhex(m[2].replace(":", ""))
        self.dst_mac = bytes.fromhex(m[3].replace(":", ""))
        self.passed = self.failed = 0
        self.ident = 0x5100

    def ok(self, msg):
        self.passed += 1
        print("PASS: " + msg, flush=True)

    def fail(self, msg):
        self.failed += 1
        print("FAIL: " + msg, flush=True)

    def check(self, what, cond, detail=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what + (": " + detail if detail else ""))

    def natctl(self, *args):
        out = subprocess.run([NATCTL, "-n", self.router, "-j"] + list(args),
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def counters(self):
        return self.natctl("stats")["total"]

    def session(self, rem):
        for s in self.natctl("session", "show", "proto", "tcp"):
            if s["remote"] == rem:
                return s
        return None

    def drain(self):
        for s in (self.c2, self.server):
            while True:
                try:
                    s.recvfrom(65536)
                except BlockingIOError:
                    break

    def send(self, src, sp, seq, ack, flags):
        self.ident += 1
        p = ipv4(src, EXT, 6, tcp_seg(src, EXT, sp, 8080, seq, ack, flags),
                 self.ident)
        self.server.send(self.dst_mac + self.src_mac + b"\x08\x00" + p)

    def capture(self, sock, match, wait=None):
        """TCP segments (ip, tcp header fields) on @sock that @match, for
        @wait seconds, or until the first when @wait is None (at most 10 s)."""
        got = []
        deadline = time.time() + (wait if wait is not None else 10)
        while time.time() < deadline:
            try:
                frame, addr = sock.recvfrom(65536)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if addr[2] == 4 or frame[12:14] != b"\x08\x00":
                continue
            p = frame[14:]
            if len(p) < 40 or p[9] != 6:
                continue
            hl = (p[0] & 15) * 4
            src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
            sp, dp, seq, ack, _, flags = struct.unpack("!HHIIBB",
                                                       p[hl:hl + 14])
            seg = (src, sp, dst, dp, seq, ack, flags)
            if match(seg):
                got.append(seg)
                if wait is None:
                    break
        return got

    def at_c2(self, sp):
        return lambda g: g[2] == C2 and g[3] == 80 and g[1] == sp

    def at_server(self, dst, dp):
        return lambda g: g[0] == EXT and g[1] == 8080 and g[2] == dst and \
            g[3] == dp

    def delta(self, before, name):
        return self.counters()[name] - before[name]

    # ---- the cases ----

    def not_syn(self):
        print("# segments that are not a SYN, to the mapping, no session")
        for i, (name, flags) in enumerate((("ACK", ACK),
                                           ("FIN|ACK", FIN | ACK),
                                           ("RST", RST),
                                           ("SYN|ACK", SYN | ACK),
                                           ("no flags", 0))):
            src, sp = "192.0.2.%d" % (20 + i), 41000 + i
            self.drain()
            before = self.counters()
            self.send(src, sp, 5000, 7000, flags)
            got = self.capture(self.c2, self.at_c2(sp), WAIT)
            self.check("%s: not forwarded to the internal host" % name,
                       not got, "%d segments arrived" % len(got))
            self.check("%s: counted in drop_tcp_no_syn" % name,
                       self.delta(before, "drop_tcp_no_syn") == 1)
            self.check("%s: no session" % name,
                       self.session("%s:%d" % (src, sp)) is None)

    def handshake(self):
        src, sp, isn = "192.0.2.10", 42000, 1000
        rem = "%s:%d" % (src, sp)
        print("# a SYN from outside and the internal host's SYN/ACK")
        self.drain()
        self.send(src, sp, isn, 0, SYN)
        synack = self.capture(self.server, self.at_server(src, sp))
        if not synack or synack[0][6] & (SYN | ACK) != SYN | ACK:
            self.fail("no SYN/ACK came back from the internal host")
            return
        z = synack[0][4]
        self.check("the SYN/ACK acknowledges the SYN", synack[0][5] == isn + 1)
        s = self.session(rem)
        self.check("the session is embryonic (syn-recv)",
                   s is not None and s["state"] == "syn-recv",
                   "session %s" % s)
        self.check("it expires within tcp-syn (%d s)" % self.tcp_syn,
                   s is not None and s["expires"] <= self.tcp_syn,
                   "expires in %s s" % (s and s["expires"]))

        print("# the third leg")
        before = self.counters()
        self.drain()
        self.send(src, sp, isn + 1, z + 1 + 100000, ACK)
        got = self.capture(self.c2, self.at_c2(sp), WAIT)
        self.check("an ACK of something else: not forwarded", not got)
        self.check("an ACK of something else: drop_tcp_invalid",
                   self.delta(before, "drop_tcp_invalid") == 1)
        s = self.session(rem)
        self.check("an ACK of something else: still syn-recv",
                   s is not None and s["state"] == "syn-recv",
                   "session %s" % s)
        self.drain()
        self.send(src, sp, isn + 1, z + 1, ACK)
        got = self.capture(self.c2, self.at_c2(sp))
        self.check("the ACK of the SYN/ACK reaches the internal host",
                   bool(got))
        s = self.session(rem)
        self.check("the session is established",
                   s is not None and s["state"] == "established" and
                   s["expires"] > self.tcp_syn, "session %s" % s)

        print("# RSTs from outside")
        before = self.counters()
        self.drain()
        self.send(src, sp, isn + 1 + 500000, 0, RST)
        got = self.capture(self.c2, self.at_c2(sp), WAIT)
        self.check("an RST out of the window: not forwarded", not got)
        self.check("an RST out of the window: drop_tcp_invalid",
                   self.delta(before, "drop_tcp_invalid") == 1)
        s = self.session(rem)
        self.check("an RST out of the window: still established",
                   s is not None and s["state"] == "established",
                   "session %s" % s)
        self.drain()
        self.send(src, sp, isn + 1, 0, RST)
        got = self.capture(self.c2, self.at_c2(sp))
        self.check("an RST in the window reaches the internal host",
                   bool(got))
        s = self.session(rem)
        self.check("an RST in the window closes the session",
                   s is not None and s["state"] == "closed",
                   "session %s" % s)


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    p = Probe(*sys.argv[1:])
    p.not_syn()
    p.handshake()
    print("# %d passed, %d failed" % (p.passed, p.failed))
    return 1 if p.failed else 0


if __name__ == "__main__":
    sys.exit(main())
