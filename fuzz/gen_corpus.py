#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpus of fuzz_hooks: one file per packet in corpus/.

Each file is a control byte (see fuzz_hooks.c) and an IPv4 packet, in the
fuzz target's topology.  Plain struct, no scapy: run it anywhere.
"""
import os
import socket
import struct
import sys

FIX = 0x08                      # fix checksums
UNNEC, COMPLETE, PARTIAL = 1, 2, 3
CLONED = 0x04
HEAD_IP, HEAD_8, HEAD_28 = 0x40, 0x80, 0xc0
ADDR_DEP, APD = 0x10, 0x20


def ip(a):
    return socket.inet_aton(a)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, opts=b"", frag=0, ttl=64, ident=1,
         tot=None, ihl=None):
    hl = 20 + len(opts)
    if ihl is None:
        ihl = hl // 4
    tot = hl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, ident, frag, ttl,
                    proto, 0, ip(src), ip(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def pseudo(src, dst, proto, n):
    return ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, n)


def udp(src, dst, sp, dp, data=b"hello", nocsum=False):
    h = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    if not nocsum:
        c = csum(pseudo(src, dst, 17, len(h)) + h) or 0xffff
        h = h[:6] + struct.pack("!H", c) + h[8:]
    return ipv4(src, dst, 17, h)


def tcp(src, dst, sp, dp, flags=0x02, opts=b"", data=b"", seq=1000, ack=0):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, 65535,
                    0, 0) + opts + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    h = h[:16] + struct.pack("!H", c) + h[18:]
    return ipv4(src, dst, 6, h)


def icmp(src, dst, typ, code, rest, body=b""):
    h = struct.pack("!BBH", typ, code, 0) + rest + body
    h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
    return ipv4(src, dst, 1, h)


def echo(src, dst, ident, seq=1, typ=8, data=b"ping"):
    return icmp(src, dst, typ, 0, struct.pack("!HH", ident, seq), data)


def error(src, dst, inner, typ=3, code=3, cut=None, mtu=0):
    if cut is not None:
        inner = inner[:cut]
    return icmp(src, dst, typ, code, struct.pack("!HH", 0, mtu), inner)


def bad_csum(pkt):
    """An ICMP message with its checksum off by one."""
    c = struct.unpack("!H", pkt[22:24])[0] ^ 1
    return pkt[:22] + struct.pack("!H", c) + pkt[24:]


C2, C6 = "198.18.0.2", "198.18.0.6"
EXT, S2, S3, S4 = "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"
MSS = b"\x02\x04\x05\xb4"

seeds = {
    # outbound
    "udp_out": (FIX, udp(C2, S2, 5000, 53)),
    "udp_out_new": (FIX, udp(C6, S3, 40000, 9999)),
    "udp_out_nocsum": (FIX, udp(C2, S2, 5000, 53, nocsum=True)),
    "udp_out_port0": (FIX, udp(C6, S2, 0, 0)),
    "udp_out_port65535": (FIX, udp(C6, S2, 65535, 65535)),
    "tcp_syn_out": (FIX, tcp(C2, S3, 40000, 80, 0x02, MSS)),
    "tcp_syn_out_new": (FIX, tcp(C6, S3, 1023, 443, 0x02, MSS)),
    "tcp_fin_out": (FIX, tcp(C2, S3, 40000, 80, 0x11)),
    "tcp_rst_out": (FIX, tcp(C2, S3, 40000, 80, 0x04)),
    "tcp_allflags_out": (FIX, tcp(C2, S3, 40000, 80, 0xff)),
    "tcp_partial_out": (FIX | PARTIAL, tcp(C2, S3, 40000, 80, 0x10,
                                           data=b"x" * 100)),
    "udp_partial_cloned_out": (FIX | PARTIAL | CLONED | HEAD_IP,
                               udp(C6, S4, 4444, 4444, b"y" * 64)),
    "icmp_echo_out": (FIX, echo(C6, S4, 0x0777)),
    "icmp_echo_out_new": (FIX, echo(C2, S4, 0x1234)),
    "ipopts_udp_out": (FIX, ipv4(C2, S2, 17, udp(C2, S2, 5000, 53)[20:],
                                 opts=b"\x01\x01\x01\x00")),
    "ipopts_rr_tcp_out": (FIX, ipv4(C2, S3, 6,
                                    tcp(C2, S3, 40000, 80)[20:],
                                    opts=b"\x07\x0b\x04" + b"\0" * 8 + b"\0")),
    "frag_first_out": (FIX, ipv4(C2, S2, 17, udp(C2, S2, 5000, 53,
                                                  b"z" * 32)[20:36],
                                 frag=0x2000)),
    "frag_later_out": (FIX, ipv4(C2, S2, 17, b"z" * 16, frag=0x0002)),
    "gre_out": (FIX, ipv4(C2, S2, 47, b"\0\0\x08\0" + b"g" * 20)),
    "ipmap_gre_out": (FIX, ipv4("198.18.0.50", S2, 47, b"\0\0\x08\0")),
    "ipmap_tcp_out": (FIX | HEAD_8, tcp("198.18.0.50", S3, 2222, 22)),
    # inbound
    "udp_in": (FIX, udp(S2, EXT, 53, 5000)),
    "udp_in_nosession": (FIX | ADDR_DEP, udp(S4, EXT, 53, 5000)),
    "udp_in_apd": (FIX | APD, udp(S2, EXT, 54, 5000)),
    "tcp_synack_in": (FIX | HEAD_IP, tcp(S3, EXT, 80, 20001, 0x12, MSS)),
    "icmp_echoreply_in": (FIX | HEAD_28, echo(S4, EXT, 0x0999, typ=0)),
    "tcp_in_portmap": (FIX, tcp("198.51.100.7", "203.0.113.11", 5555,
                                8081, 0x02)),
    "udp_in_portmap": (FIX, udp("203.0.113.5", EXT, 1234, 53000)),
    "udp_in_portmap_refused": (FIX, udp("198.51.100.7", EXT, 1234, 53000)),
    "ipmap_tcp_in": (FIX | CLONED, tcp(S3, "203.0.113.10", 22, 2222,
                                        0x12)),
    "frag_in": (FIX, ipv4(S2, EXT, 17, b"z" * 16, frag=0x2000)),
    # ICMP errors
    "err_in_udp": (FIX, error(S2, EXT, udp(EXT, S2, 5000, 53), cut=28)),
    "err_in_udp_whole": (FIX | HEAD_8, error(S2, EXT,
                                              udp(EXT, S2, 5000, 53))),
    "err_in_tcp_timex": (FIX, error("192.0.2.99", EXT,
                                    tcp(EXT, S3, 20001, 80, 0x02, MSS),
                                    typ=11, code=0)),
    "err_in_echo_fragneeded": (FIX, error("192.0.2.99", EXT,
                                          echo(EXT, S4, 0x0999),
                                          code=4, mtu=1280)),
    "err_in_inner_opts": (FIX, error(S2, EXT,
                                     ipv4(EXT, S2, 17,
                                          udp(EXT, S2, 5000, 53)[20:],
                                          opts=b"\x01\x01\x01\x00"),
                                     cut=32)),
    "err_in_inner_truncated": (FIX, error(S2, EXT, udp(EXT, S2, 5000, 53),
                                          cut=24)),
    "err_in_nested": (FIX, error(S2, EXT,
                                 error(EXT, S2, udp(S2, EXT, 53, 5000),
                                       cut=28))),
    "err_in_nosession": (FIX, error(S2, EXT, udp(EXT, S2, 5001, 53),
                                    cut=28)),
    "err_in_badcsum": (0, bad_csum(error(S2, EXT, udp(EXT, S2, 5000, 53),
                                         cut=28))),
    "err_in_unnecessary": (UNNEC, error(S2, EXT, udp(EXT, S2, 5000, 53),
                                        cut=28)),
    "err_out_udp": (FIX, error(C2, S2, udp(S2, C2, 53, 5000), cut=28)),
    "err_out_nosession": (FIX, error(C2, S2, udp(S2, C2, 53, 6000),
                                     cut=28)),
    "err_out_inner_frag": (FIX, error(C2, S2,
                                      ipv4(S2, C2, 17, b"z" * 8,
                                           frag=0x0003))),
    "err_ipmap_in": (FIX, error(S2, "203.0.113.10",
                                tcp("203.0.113.10", S2, 2222, 22))),
    "err_local_out": (FIX | COMPLETE, error(EXT, S2, udp(S2, C2, 53, 5000),
                                            typ=11, code=0)),
    # hairpinning
    "hairpin_tcp_portmap": (FIX, tcp(C2, "203.0.113.11", 5001, 8080)),
    "hairpin_udp_portmap": (FIX, udp(C6, EXT, 4000, 53000)),
    "hairpin_ipmap": (FIX, udp(C6, "203.0.113.10", 4000, 4000)),
    # truncated headers
    "tcp_trunc_out": (FIX, ipv4(C2, S3, 6, tcp(C2, S3, 40000, 80)[20:30])),
    "udp_trunc_in": (FIX, ipv4(S2, EXT, 17, b"\0\x35\x13")),
    "icmp_trunc_in": (FIX, ipv4(S4, EXT, 1, b"\0\0\0")),
    "icmp_trunc_error_in": (FIX, ipv4(S2, EXT, 1, b"\x03\x03\0\0\0\0\0\0"
                                      b"\x45\0\0")),
    "ip_only_tcp_in": (FIX, ipv4(S3, EXT, 6, b"")),
    "ip_opts_only_out": (FIX, ipv4(C2, S2, 17, b"", opts=b"\x01" * 40)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, (ctl, pkt) in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([ctl]) + pkt)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
