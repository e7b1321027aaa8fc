#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Protocols other than TCP, UDP and ICMP echo through knat, with raw
sockets (nat_other_proto.sh).

    nat_other_proto.py ROUTER C1 C2 SERVER

  - IP protocol 253 from client1 to the server: the server sees it from
    203.0.113.1, its answer reaches client1 from 203.0.113.2; the session is
    listed with protocol 253;
  - the same from client2, which shares the external address, to the same
    server: it cannot be told apart, so it is dropped (drop_no_port); to
    another address of the server it goes through;
  - ICMP timestamp and information requests (queries with an identifier)
    are translated like echo: seen from 203.0.113.1 with another
    identifier, answered, the reply back at client1 with its own;
  - an ICMP router advertisement (neither a query nor an error) from
    inside never leaves: drop_untranslatable.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nat_malformed import csum  # noqa: E402
from nat_synflood import socket_in  # noqa: E402

NATCTL = os.environ.get("NATCTL", "natctl")
EXT = "203.0.113.1"
C1, C2 = "198.18.0.2", "198.18.0.6"
S2, S3 = "203.0.113.2", "203.0.113.3"


class Other:
    def __init__(self, router, c1, c2, server):
        self.router = router
        self.ns = {"c1": c1, "c2": c2, "server": server}
        self.passed = self.failed = 0

    def check(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("PASS: " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL: " + what + (": " + detail if detail else ""),
                  flush=True)

    def counters(self):
        out = subprocess.run([NATCTL, "-n", self.router, "-j", "stats"],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["total"]

    def sessions(self):
        out = subprocess.run([NATCTL, "-n", self.router, "-j", "session",
                              "show"], capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout)

    def raw(self, side, proto):
        s = socket_in(self.ns[side], socket.AF_INET, socket.SOCK_RAW, proto)
        s.settimeout(0.2)
        return s

    @staticmethod
    def recv(s, want, wait=3.0):
        """(data, source) of the first datagram @want accepts (the IP
        header included, as raw sockets give it), or None."""
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                data, addr = s.recvfrom(65536)
            except socket.timeout:
                continue
            if want(data, addr[0]):
                return data, addr[0]
        return None

    def proto253(self):
        print("# IP protocol 253, translated by address alone")
        c1, c2 = self.raw("c1", 253), self.raw("c2", 253)
        srv = self.raw("server", 253)
        c1.sendto(b"knat-253 ping c1", (S2, 0))
        got = self.recv(srv, lambda d, a: d[20:].startswith(b"knat-253 ping c1"))
        self.check("the server gets client1's datagram from 203.0.113.1",
                   got is not None and got[1] == EXT,
                   "got %s" % (got and got[1]))
        srv.sendto(b"knat-253 pong", (EXT, 0))
        got = self.recv(c1, lambda d, a: d[20:].startswith(b"knat-253 pong"))
        self.check("client1 gets the answer from 203.0.113.2",
                   got is not None and got[1] == S2 and
                   socket.inet_ntoa(got[0][16:20]) == C1,
                   "got %s" % (got and got[1]))
        sess = [s for s in self.sessions() if s["proto"] in ("253", 253)]
        self.check("one session of protocol 253, 198.18.0.2 <-> 203.0.113.2",
                   len(sess) == 1 and sess[0]["internal"].startswith(C1) and
                   sess[0]["remote"].startswith(S2), "sessions %s" % sess)

        before = self.counters()
        c2.sendto(b"knat-253 ping c2", (S2, 0))
        got = self.recv(srv, lambda d, a: d[20:].startswith(b"knat-253 ping c2"),
                        1.0)
        self.check("client2 to the same server on the same external "
                   "address: dropped", got is None,
                   "the server got it from %s" % (got and got[1]))
        self.check("... counted in drop_no_port",
                   self.counters()["drop_no_port"] - before["drop_no_port"]
                   == 1)
        srv3 = socket_in(self.ns["server"], socket.AF_INET, socket.SOCK_RAW,
                         253)
        srv3.settimeout(0.2)
        c2.sendto(b"knat-253 to .3", (S3, 0))
        got = self.recv(srv3, lambda d, a: d[20:].startswith(b"knat-253 to .3"))
        self.check("client2 to another server address goes through, from "
                   "203.0.113.1", got is not None and got[1] == EXT and
                   socket.inet_ntoa(got[0][16:20]) == S3)

    def icmp_query(self, name, typ, reply_typ, body):
        print("# ICMP %s request" % name)
        c1 = self.raw("c1", socket.IPPROTO_ICMP)
        srv = self.raw("server", socket.IPPROTO_ICMP)
        ident = 0x4b4e + typ
        msg = struct.pack("!BBHHH", typ, 0, 0, ident, 1) + body
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        c1.sendto(msg, (S2, 0))
        got = self.recv(srv, lambda d, a: d[20] == typ)
        self.check("%s request: the server sees it from 203.0.113.1" % name,
                   got is not None and got[1] == EXT,
                   "got %s" % (got and got[1]))
        if got is not None:
            seen_id = struct.unpack("!H", got[0][24:26])[0]
            self.check("%s request: its checksum is right" % name,
                       csum(got[0][20:]) == 0)
            if reply_typ is None:
                return seen_id
            # The server's kernel does not answer these: answer by hand.
            rep = struct.pack("!BBHHH", reply_typ, 0, 0, seen_id, 1) + body
            rep = rep[:2] + struct.pack("!H", csum(rep)) + rep[4:]
            srv.sendto(rep, (EXT, 0))
        seen = []

        def reply(d, a):
            if d[20] != reply_typ:
                return False
            seen.append((a, d[20:28].hex()))
            return a == S2 and struct.unpack("!H", d[24:26])[0] == ident
        got = self.recv(c1, reply)
        self.check("%s reply: back at client1 from 203.0.113.2 with its "
                   "identifier" % name, got is not None,
                   "replies seen: %r" % seen)
        if got is not None:
            self.check("%s reply: its checksum is right" % name,
                       csum(got[0][20:]) == 0)
        return None

    def untranslatable(self):
        print("# ICMP router advertisement from inside")
        c1 = self.raw("c1", socket.IPPROTO_ICMP)
        srv = self.raw("server", socket.IPPROTO_ICMP)
        before = self.counters()
        msg = struct.pack("!BBHBBH", 9, 0, 0, 1, 2, 1800) + socket.inet_aton(C1)
        msg += b"\0\0\0\0"
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        c1.sendto(msg, (S2, 0))
        got = self.recv(srv, lambda d, a: d[20] == 9, 1.0)
        self.check("a router advertisement never leaves", got is None,
                   "the server got it from %s" % (got and got[1]))
        self.check("... counted in drop_untranslatable",
                   self.counters()["drop_untranslatable"] -
                   before["drop_untranslatable"] == 1)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    o = Other(*sys.argv[1:])
    o.proto253()
    o.icmp_query("timestamp", 13, 14, b"\0" * 12)
    o.icmp_query("information", 15, 16, b"")
    o.untranslatable()
    print("# %d passed, %d failed" % (o.passed, o.failed))
    return 1 if o.failed else 0


if __name__ == "__main__":
    sys.exit(main())
