#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed packets through knat, from both sides (nat_malformed.sh).

    nat_malformed.py ROUTER C1 C2 SERVER MACS LIVE_EXT_PORT

MACS: "c1,int1,c2,int2,server,ext0" (the hosts' eth0 and the router's
interfaces).  Frames are built by hand (struct, no scapy) and sent on packet
sockets from the clients' and the server's eth0, so the senders' own IP
stacks check nothing; what comes out on the far side is read on packet
sockets there, each case's packets known by their IP ID.

Each case states what must happen, from hooks.c and README.md:
  translated   out the far side, translated (outbound: from 203.0.113.1;
               inbound: to the internal host), its checksums right
  passed       out the far side untranslated (not knat's protocols)
  malformed    dropped by knat, drop_malformed + 1
  filtered     dropped by knat, drop_filtered + 1
  no_syn       dropped by knat, drop_tcp_no_syn + 1 (TCP from outside with
               no session that is not a SYN)
  tcp_invalid  dropped by knat, drop_tcp_invalid + 1 (from inside: an RST
               or SYN/ACK that has no session)
  untranslatable dropped by knat, drop_untranslatable + 1 (from inside:
               what knat cannot translate never leaves untranslated)
  spoofed      dropped by knat, drop_spoofed + 1 (an internal source from
               outside, the router's rp_filter off)
  stack        dropped by the IP stack or defragmentation before knat:
               nothing out, knat's drop counters unchanged
  local        not forwarded (for the router itself, or held), knat's drop
               counters unchanged
Prints "PASS: ..."/"FAIL: ..." lines and a summary; exit 1 on a failure.
"""
import ctypes
import json
import os
import socket
import struct
import subprocess
import sys
import time

NATCTL = os.environ.get("NATCTL", "natctl")
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3
PACKET_OUTGOING = 4
WAIT = float(os.environ.get("KNAT_MALFORMED_WAIT", "0.4"))

EXT = "203.0.113.1"
C1, C2 = "198.18.0.2", "198.18.0.6"
S2, S3 = "203.0.113.2", "203.0.113.3"

libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + name)
    os.close(fd)


def packet_socket(ns):
    setns(ns)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind(("eth0", 0))
    # Room for a burst of 256 while we are still sending it.
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)    # SO_RCVBUFFORCE
    s.setblocking(False)
    return s


# ---- packets ----

def ip(a):
    return socket.inet_aton(a)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident, opts=b"", frag=0, ttl=64,
         tot=None, ihl=None, version=4, bad_csum=False):
    hl = 20 + len(opts)
    ihl = hl // 4 if ihl is None else ihl
    tot = hl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot, ident,
                    frag, ttl, proto, 0, ip(src), ip(dst)) + opts
    c = csum(h) ^ (1 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def pseudo(src, dst, proto, n):
    return ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, n)


def udp_seg(src, dst, sp, dp, data=b"knat-malformed"):
    h = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    c = csum(pseudo(src, dst, 17, len(h)) + h) or 0xffff
    return h[:6] + struct.pack("!H", c) + h[8:]


def udplite_seg(src, dst, sp, dp, data=b"knat-lite"):
    """UDP-Lite (RFC 3828), checksum coverage 0: the whole datagram."""
    h = struct.pack("!HHHH", sp, dp, 0, 0) + data
    c = csum(pseudo(src, dst, 136, len(h)) + h) or 0xffff
    return h[:6] + struct.pack("!H", c) + h[8:]


def tcp_seg(src, dst, sp, dp, flags=0x02, opts=b"", data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, 1000, 0,
                    ((20 + len(opts)) // 4) << 4, flags, 65535, 0, 0)
    h += opts + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]


def icmp_msg(typ, code, rest, body=b"", bad=False):
    h = struct.pack("!BBH", typ, code, 0) + rest + body
    c = csum(h) ^ (1 if bad else 0)
    return h[:2] + struct.pack("!H", c) + h[4:]


def udp(src, dst, sp, dp, ident, **kw):
    return ipv4(src, dst, 17, udp_seg(src, dst, sp, dp), ident, **kw)


def tcp(src, dst, sp, dp, ident, flags=0x02, **kw):
    return ipv4(src, dst, 6, tcp_seg(src, dst, sp, dp, flags), ident, **kw)


def echo(src, dst, ident, icmp_id, typ=8):
    return ipv4(src, dst, 1, icmp_msg(typ, 0, struct.pack("!HH", icmp_id, 1),
                                      b"ping"), ident)


def error(src, dst, ident, inner, typ=3, code=3, bad=False):
    return ipv4(src, dst, 1, icmp_msg(typ, code, b"\0\0\0\0", inner,
                                      bad=bad), ident)


def fragments(pkt, pieces, ident):
    """Cut IP packet @pkt (no options) at the 8-byte multiples @pieces."""
    hdr, data = pkt[:20], pkt[20:]
    src, dst = socket.inet_ntoa(hdr[12:16]), socket.inet_ntoa(hdr[16:20])
    out = []
    bounds = [0] + list(pieces) + [len(data)]
    for a, b in zip(bounds, bounds[1:]):
        more = 0x2000 if b < len(data) else 0
        out.append(ipv4(src, dst, hdr[9], data[a:b], ident,
                        frag=more | (a // 8)))
    return out


# ---- checking what came out ----

def l4_ok(p):
    """The transport checksum of a whole, unfragmented datagram."""
    hl = (p[0] & 15) * 4
    tot = struct.unpack("!H", p[2:4])[0]
    l4 = p[hl:tot]
    src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
    if p[9] == 6 and len(l4) >= 20:
        return csum(pseudo(src, dst, 6, len(l4)) + l4) == 0
    if p[9] == 17 and len(l4) >= 8:
        if l4[6:8] == b"\0\0":
            return True
        return csum(pseudo(src, dst, 17, len(l4)) + l4) == 0
    if p[9] == 1 and len(l4) >= 8:
        return csum(l4) == 0
    if p[9] == 136 and len(l4) >= 8:
        return csum(pseudo(src, dst, 136, len(l4)) + l4) == 0
    return True


class Injector:
    def __init__(self, router, c1, c2, server, macs, live_port):
        m = macs.split(",")
        self.router = router
        self.live_port = live_port
        # (socket, own MAC, router's MAC) per sending side
        self.side = {
            "c1": (packet_socket(c1), m[0], m[1]),
            "c2": (packet_socket(c2), m[2], m[3]),
            "server": (packet_socket(server), m[4], m[5]),
        }
        self.passed = self.failed = 0
        self.injected = 0
        self.next_id = 0x4b00

    def ident(self):
        self.next_id += 1
        return self.next_id

    def counters(self):
        out = subprocess.run([NATCTL, "-n", self.router, "-j", "stats"],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["total"]

    def send(self, side, pkts):
        s, mine, router = self.side[side]
        dst = bytes.fromhex(router.replace(":", ""))
        src = bytes.fromhex(mine.replace(":", ""))
        for p in pkts:
            s.send(dst + src + b"\x08\x00" + p)
            self.injected += 1

    def drain(self):
        for s, _, _ in self.side.values():
            while True:
                try:
                    s.recvfrom(65536)
                except BlockingIOError:
                    break

    def captured(self, side, idents, want=0):
        """IPv4 packets received on @side whose IP ID is in @idents: for
        WAIT seconds, or until @want different IDs came (at most 20 s)."""
        s = self.side[side][0]
        got = []
        seen = set()
        deadline = time.time() + (20 if want else WAIT)
        while time.time() < deadline and (not want or len(seen) < want):
            try:
                frame, addr = s.recvfrom(65536)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            if addr[2] == PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
                continue
            p = frame[14:]
            if len(p) >= 20 and struct.unpack("!H", p[4:6])[0] in idents:
                got.append(p)
                seen.add(struct.unpack("!H", p[4:6])[0])
        if want:
            time.sleep(WAIT)    # and the fragments that follow
            got += self.captured(side, idents - seen) if idents - seen \
                else []
        return got

    def ok(self, msg):
        self.passed += 1
        print("PASS: " + msg, flush=True)

    def fail(self, msg):
        self.failed += 1
        print("FAIL: " + msg, flush=True)

    def case(self, name, side, pkts, expect, far, to=None, count=None):
        """Send @pkts from @side; @far: where they come out if they do;
        @to: the address a translated packet goes to (inbound) or None
        (outbound: from EXT)."""
        if isinstance(pkts, bytes):
            pkts = [pkts]
        idents = {struct.unpack("!H", p[4:6])[0] for p in pkts
                  if len(p) >= 6}
        self.drain()
        before = self.counters()
        self.send(side, pkts)
        want = 0
        if expect in ("translated", "passed"):
            want = count if count is not None else 1
        got = self.captured(far, idents, want)
        after = self.counters()
        d_mal = after["drop_malformed"] - before["drop_malformed"]
        d_fil = after["drop_filtered"] - before["drop_filtered"]
        d_syn = after["drop_tcp_no_syn"] - before["drop_tcp_no_syn"]
        d_inv = after["drop_tcp_invalid"] - before["drop_tcp_invalid"]
        d_unt = (after["drop_untranslatable"] -
                 before["drop_untranslatable"])
        d_spf = after["drop_spoofed"] - before["drop_spoofed"]
        what = ("%s (%d sent, %d out, drop_malformed +%d, drop_filtered +%d, "
                "drop_tcp_no_syn +%d)" % (name, len(pkts), len(got), d_mal,
                                          d_fil, d_syn))
        errs = []
        if expect in ("translated", "passed"):
            whole = [p for p in got if not (p[6] & 0x3f or p[7])]
            n = len({struct.unpack("!H", p[4:6])[0] for p in got}) \
                if count is not None else (1 if got else 0)
            if count is not None and n < count:
                errs.append("%d of %d came out" % (n, count))
            if count is None and not got:
                errs.append("nothing came out")
            for p in got:
                src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
                if expect == "passed":
                    if src == EXT:
                        errs.append("translated, expected untouched")
                elif to is None and src != EXT:
                    errs.append("left with source %s" % src)
                elif to is not None and dst != to:
                    errs.append("came in to %s, not %s" % (dst, to))
                if csum(p[:(p[0] & 15) * 4]) != 0:
                    errs.append("IP header checksum wrong")
            for p in whole:
                if not l4_ok(p):
                    errs.append("transport checksum wrong")
            if d_mal:
                errs.append("counted malformed")
        else:
            if got:
                errs.append("%d came out, expected none" % len(got))
            if expect == "malformed" and d_mal != len(pkts):
                errs.append("drop_malformed moved by %d, not %d" %
                            (d_mal, len(pkts)))
            if expect == "filtered" and d_fil != len(pkts):
                errs.append("drop_filtered moved by %d, not %d" %
                            (d_fil, len(pkts)))
            if expect == "no_syn" and d_syn != len(pkts):
                errs.append("drop_tcp_no_syn moved by %d, not %d" %
                            (d_syn, len(pkts)))
            if expect == "spoofed" and d_spf != len(pkts):
                errs.append("drop_spoofed moved by %d, not %d" %
                            (d_spf, len(pkts)))
            if expect == "untranslatable" and d_unt != len(pkts):
                errs.append("drop_untranslatable moved by %d, not %d" %
                            (d_unt, len(pkts)))
            if expect == "tcp_invalid" and d_inv != len(pkts):
                errs.append("drop_tcp_invalid moved by %d, not %d" %
                            (d_inv, len(pkts)))
            if expect in ("stack", "local", "filtered") and d_mal:
                errs.append("counted malformed")
        if errs:
            self.fail("%s: expected %s: %s" % (what, expect,
                                                "; ".join(sorted(set(errs)))))
        else:
            self.ok("%s: %s" % (what, expect))

    # ---- the cases ----

    def outbound(self):
        i = self.ident
        print("# from inside (client 198.18.0.2 and .6 to the servers)")
        self.case("TCP header cut to 10 bytes", "c1",
                  ipv4(C1, S3, 6, tcp_seg(C1, S3, 41000, 80)[:10], i()),
                  "malformed", "server")
        self.case("UDP header cut to 4 bytes", "c1",
                  ipv4(C1, S3, 17, b"\x9c\x40\x00\x35", i()),
                  "malformed", "server")
        self.case("ICMP header cut to 4 bytes", "c1",
                  ipv4(C1, S3, 1, b"\x08\x00\xf7\xff", i()),
                  "malformed", "server")
        self.case("TCP, no transport header at all", "c1",
                  ipv4(C1, S3, 6, b"", i()), "malformed", "server")
        self.case("UDP with IP options (NOPs)", "c1",
                  ipv4(C1, S3, 17, udp_seg(C1, S3, 41001, 9), i(),
                       opts=b"\x01\x01\x01\x00"), "translated", "server")
        self.case("TCP SYN with record route", "c1",
                  ipv4(C1, S3, 6, tcp_seg(C1, S3, 41002, 9), i(),
                       opts=b"\x07\x0b\x04" + b"\0" * 9),
                  "translated", "server")
        self.case("IHL 4", "c1", udp(C1, S3, 41003, 9, i(), ihl=4),
                  "stack", "server")
        self.case("IHL 15, beyond the total length", "c1",
                  udp(C1, S3, 41004, 9, i(), ihl=15), "stack", "server")
        self.case("total length beyond the frame", "c1",
                  udp(C1, S3, 41005, 9, i(), tot=200), "stack", "server")
        self.case("total length below the IHL", "c1",
                  udp(C1, S3, 41006, 9, i(), tot=16), "stack", "server")
        self.case("total length short of the frame (padding)", "c1",
                  udp(C1, S3, 41007, 9, i()) + b"\xee" * 24,
                  "translated", "server")
        self.case("bad IP header checksum", "c1",
                  udp(C1, S3, 41008, 9, i(), bad_csum=True),
                  "stack", "server")
        self.case("version 6 in an IPv4 frame", "c1",
                  udp(C1, S3, 41009, 9, i(), version=6), "stack", "server")
        self.case("UDP, ports 0 to 0", "c1", udp(C1, S3, 0, 0, i()),
                  "translated", "server")
        self.case("UDP, ports 65535 to 65535", "c1",
                  udp(C1, S3, 65535, 65535, i()), "translated", "server")
        self.case("TCP, port 0 to port 0", "c1", tcp(C1, S3, 0, 0, i()),
                  "translated", "server")
        self.case("ICMP echo, identifier 0", "c1", echo(C1, S3, i(), 0),
                  "translated", "server")
        self.case("ICMP echo, identifier 65535", "c1",
                  echo(C1, S3, i(), 65535), "translated", "server")
        self.case("GRE: translated by address alone", "c1",
                  ipv4(C1, S3, 47, b"\0\0\x08\0" + b"g" * 20, i()),
                  "translated", "server")
        self.case("IP protocol 253: translated by address alone", "c1",
                  ipv4(C1, S3, 253, b"knat" * 4, i()), "translated",
                  "server")
        self.case("GRE, no payload at all: translated", "c1",
                  ipv4(C1, S2, 47, b"", i()), "translated", "server")
        self.case("UDP-Lite: translated, its checksum kept right", "c1",
                  ipv4(C1, S3, 136, udplite_seg(C1, S3, 41020, 9), i()),
                  "translated", "server")
        self.case("UDP-Lite cut to 4 bytes", "c1",
                  ipv4(C1, S3, 136, b"\xa0\x3c\x00\x09", i()),
                  "malformed", "server")
        self.case("ICMP timestamp request: translated like echo", "c1",
                  ipv4(C1, S3, 1, icmp_msg(13, 0, b"\0\1\0\1",
                                           b"\0" * 12), i()),
                  "translated", "server")
        self.case("ICMP address mask request: translated like echo", "c1",
                  ipv4(C1, S3, 1, icmp_msg(17, 0, b"\0\2\0\1",
                                           b"\0" * 4), i()),
                  "translated", "server")
        self.case("ICMP redirect from inside: never leaves", "c1",
                  ipv4(C1, S3, 1, icmp_msg(5, 1, ip(C2),
                                           udp(S3, C1, 9, 41001, 1)[:28]),
                       i()), "untranslatable", "server")
        self.case("ICMP type 42 (extended echo): never leaves", "c1",
                  ipv4(C1, S3, 1, icmp_msg(42, 0, b"\0\3\1\0"), i()),
                  "untranslatable", "server")

        print("# ICMP errors from inside")
        live_in = udp(S2, C1, 7000, 4000, 1)
        self.case("error about the live flow", "c1",
                  error(C1, S2, i(), live_in[:28]), "translated", "server")
        self.case("error about no session", "c1",
                  error(C1, S2, i(), udp(S2, C1, 7000, 4999, 1)[:28]),
                  "filtered", "server")
        self.case("error with a bad ICMP checksum", "c1",
                  error(C1, S2, i(), live_in[:28], bad=True),
                  "malformed", "server")
        self.case("error, embedded IP header cut to 10 bytes", "c1",
                  error(C1, S2, i(), live_in[:10]), "malformed", "server")
        self.case("error, embedded transport header cut to 4 bytes", "c1",
                  error(C1, S2, i(), live_in[:24]), "malformed", "server")
        self.case("error, embedded packet of version 6", "c1",
                  error(C1, S2, i(), bytes([0x65]) + live_in[1:28]),
                  "malformed", "server")
        self.case("error, embedded IHL 3", "c1",
                  error(C1, S2, i(), bytes([0x43]) + live_in[1:28]),
                  "malformed", "server")
        self.case("error about an error (nested): never leaves",
                  "c1", error(C1, S2, i(),
                              error(S2, C1, 1, live_in[:28])[:28 + 28]),
                  "untranslatable", "server")
        self.case("error about a non-first fragment: never leaves",
                  "c1", error(C1, S2, i(),
                              ipv4(S2, C1, 17, b"z" * 8, 1, frag=3)),
                  "untranslatable", "server")
        self.case("error about a GRE packet of no session", "c1",
                  error(C1, S2, i(),
                        ipv4("203.0.113.4", C1, 47, b"\0" * 8, 1)),
                  "filtered", "server")

        print("# fragments from inside (defragmented before knat)")
        big = udp(C1, S3, 41010, 9, 0)[:20] + udp_seg(C1, S3, 41010, 9,
                                                     b"f" * 40)
        n = i()
        self.case("tiny fragments (8 bytes), in order", "c1",
                  fragments(ipv4(C1, S3, 17, big[20:], n), [8, 16, 24, 32, 40],
                            n), "translated", "server")
        n = i()
        fr = fragments(ipv4(C1, S3, 17, big[20:], n), [16, 32], n)
        self.case("fragments out of order", "c1", fr[::-1], "translated",
                  "server")
        n = i()
        fr = fragments(ipv4(C1, S3, 17, big[20:], n), [16, 32], n)
        over = ipv4(C1, S3, 17, b"x" * 16, n, frag=0x2000 | 1)
        self.case("overlapping fragments", "c1", [fr[0], over] + fr[1:],
                  "stack", "server")
        n = i()
        self.case("a first fragment alone (held, never completed)", "c1",
                  fragments(ipv4(C1, S3, 17, big[20:], n), [16], n)[0],
                  "local", "server")

        print("# TCP with every flag combination, from inside")
        # A new flow from inside may open or be picked up mid-stream, but
        # an RST or a SYN/ACK (the answer to a SYN whose session is gone)
        # makes no session: 96 of the 256 combinations make one.
        base = self.next_id + 1
        new = [f for f in range(256) if not f & 0x04 and f & 0x12 != 0x12]
        rest = [f for f in range(256) if f not in new]
        self.next_id += 256
        self.case("TCP flags, no RST or SYN/ACK (96 flows)", "c2",
                  [tcp(C2, S3, 30000 + f, 9, base + f, flags=f) for f in new],
                  "translated", "server", count=len(new))
        self.case("TCP RST or SYN/ACK with no session (160 flows)", "c2",
                  [tcp(C2, S3, 30000 + f, 9, base + f, flags=f)
                   for f in rest], "tcp_invalid", "server")

    def inbound(self):
        i = self.ident
        live = self.live_port
        print("# from outside (servers to 203.0.113.1)")
        self.case("TCP header cut to 10 bytes", "server",
                  ipv4(S3, EXT, 6, tcp_seg(S3, EXT, 80, 8080)[:10], i()),
                  "malformed", "c2")
        self.case("UDP header cut to 4 bytes", "server",
                  ipv4(S2, EXT, 17, b"\x1b\x58\x14\xe9", i()),
                  "malformed", "c1")
        self.case("ICMP header cut to 4 bytes", "server",
                  ipv4(S2, EXT, 1, b"\x00\x00\xff\xff", i()),
                  "malformed", "c1")
        self.case("UDP with IP options to a mapped port", "server",
                  ipv4(S3, EXT, 17, udp_seg(S3, EXT, 1234, 5353), i(),
                       opts=b"\x01\x01\x01\x00"), "translated", "c2", to=C2)
        self.case("UDP from port 0 to a mapped port", "server",
                  udp(S3, EXT, 0, 5353, i()), "translated", "c2", to=C2)
        self.case("UDP from port 65535 to a mapped port", "server",
                  udp(S3, EXT, 65535, 5353, i()), "translated", "c2", to=C2)
        self.case("UDP to port 0 (no mapping: the router's own)", "server",
                  udp(S3, EXT, 1234, 0, i()), "local", "c2")
        self.case("UDP to port 65535 (no mapping)", "server",
                  udp(S3, EXT, 1234, 65535, i()), "local", "c2")
        self.case("UDP to the live flow's port from another host",
                  "server", udp(S3, EXT, 7000, live, i()), "filtered", "c1")
        self.case("IHL 4", "server", udp(S3, EXT, 1234, 5353, i(), ihl=4),
                  "stack", "c2")
        self.case("total length beyond the frame", "server",
                  udp(S3, EXT, 1234, 5353, i(), tot=300), "stack", "c2")
        self.case("ICMP echo reply about no session", "server",
                  echo(S3, EXT, i(), 4242, typ=0), "local", "c1")

        print("# internal sources from outside (rp_filter off)")
        self.case("UDP from 198.18.0.2 on the outside, to a server",
                  "server", udp(C1, S3, 41100, 9, i()), "spoofed", "server")
        self.case("TCP SYN from 198.18.0.6 on the outside, to a server",
                  "server", tcp(C2, S3, 41101, 80, i()), "spoofed", "server")
        self.case("GRE from 198.18.0.2 on the outside, to a server",
                  "server", ipv4(C1, "203.0.113.4", 47, b"\0\0\x08\0", i()),
                  "spoofed", "server")
        self.case("UDP from 198.18.0.2 on the outside, to a mapped port "
                  "(hairpin)", "server", udp(C1, EXT, 41102, 5353, i()),
                  "spoofed", "c2")

        print("# other protocols from outside")
        self.case("GRE reply to client1's GRE: translated back", "server",
                  ipv4(S3, EXT, 47, b"\0\0\x08\0" + b"G" * 20, i()),
                  "translated", "c1", to=C1)
        self.case("IP protocol 253 reply: translated back", "server",
                  ipv4(S3, EXT, 253, b"KNAT" * 4, i()), "translated", "c1",
                  to=C1)
        self.case("IP protocol 253 from a host no session talks to: the "
                  "router's own", "server",
                  ipv4(S2, EXT, 253, b"KNAT" * 4, i()), "local", "c1")
        self.case("error about client1's GRE: translated back", "server",
                  error(S3, EXT, i(), ipv4(EXT, S3, 47, b"\0" * 8, 1)),
                  "translated", "c1", to=C1)

        print("# ICMP errors from outside")
        live_out = udp(EXT, S2, live, 7000, 1)
        self.case("error about the live flow", "server",
                  error(S2, EXT, i(), live_out[:28]), "translated", "c1",
                  to=C1)
        self.case("error about the live flow, whole embedded datagram",
                  "server", error(S2, EXT, i(), live_out), "translated",
                  "c1", to=C1)
        self.case("error about no session (left alone: for the router)",
                  "server", error(S2, EXT, i(),
                                  udp(EXT, S2, 1, 7000, 1)[:28]),
                  "local", "c1")
        self.case("error with a bad ICMP checksum", "server",
                  error(S2, EXT, i(), live_out[:28], bad=True),
                  "malformed", "c1")
        self.case("error, embedded IP header cut to 12 bytes", "server",
                  error(S2, EXT, i(), live_out[:12]), "malformed", "c1")
        self.case("error, embedded transport header cut to 2 bytes",
                  "server", error(S2, EXT, i(), live_out[:22]),
                  "malformed", "c1")
        self.case("error, embedded packet of version 5", "server",
                  error(S2, EXT, i(), bytes([0x55]) + live_out[1:28]),
                  "malformed", "c1")
        self.case("error about an error (nested)", "server",
                  error(S2, EXT, i(), error(EXT, S2, 1, live_out[:28])),
                  "local", "c1")

        print("# fragments from outside")
        seg = udp_seg(S3, EXT, 1234, 5353, b"F" * 40)
        n = i()
        fr = fragments(ipv4(S3, EXT, 17, seg, n), [8, 24], n)
        self.case("fragments to a mapped port, out of order", "server",
                  [fr[2], fr[0], fr[1]], "translated", "c2", to=C2)
        n = i()
        fr = fragments(ipv4(S3, EXT, 17, seg, n), [16, 32], n)
        over = ipv4(S3, EXT, 17, b"x" * 24, n, frag=0x2000 | 1)
        self.case("overlapping fragments", "server", [fr[0], over] + fr[1:],
                  "stack", "c2")

        print("# TCP with every flag combination, from outside")
        # Only a SYN (no ACK, RST or FIN; any of URG, PSH, ECE, CWR) opens
        # a session from outside: 16 of the 256 combinations.
        base = self.next_id + 1
        opens = [f for f in range(256) if f & 0x17 == 0x02]
        rest = [f for f in range(256) if f & 0x17 != 0x02]
        self.next_id += 256
        self.case("TCP SYNs, every other flag, to a mapped port (16 flows)",
                  "server", [tcp(S3, EXT, 40000 + f, 8080, base + f, flags=f)
                             for f in opens],
                  "translated", "c2", to=C2, count=len(opens))
        self.case("TCP without a SYN or with ACK/RST/FIN, to a mapped port, "
                  "no session (240 flows)", "server",
                  [tcp(S3, EXT, 40000 + f, 8080, base + f, flags=f)
                   for f in rest], "no_syn", "c2")


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    inj = Injector(*sys.argv[1:6], int(sys.argv[6]))
    inj.outbound()
    inj.inbound()
    print("# %d packets injected in %d cases: %d passed, %d failed" %
          (inj.injected, inj.passed + inj.failed, inj.passed, inj.failed))
    return 1 if inj.failed else 0


if __name__ == "__main__":
    sys.exit(main())
