#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpora for the fuzz targets (corpus/vhost_msg, corpus/virtq, corpus/offload).
# Re-run after changing an input format: python3 tests/fuzz/make_seeds.py
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(kind, name, data):
    d = os.path.join(here, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- vhost_msg: [fd count] + header + payload ----
def msg(req, payload=b"", fds=0, flags=1):
    return bytes([fds]) + struct.pack("<III", req, flags, len(payload)) + payload


u64 = lambda v: struct.pack("<Q", v)
write("vhost_msg", "get_features", msg(1))
write("vhost_msg", "set_features", msg(2, u64(1 << 32 | 1 << 15)))
write("vhost_msg", "set_features_need_reply", msg(2, u64(1 << 32), flags=1 | 8))
region = struct.pack("<QQQQ", 0x0, 0x40000000, 0x7F0000000000, 0)
write("vhost_msg", "set_mem_table_1", msg(5, struct.pack("<II", 1, 0) + region, fds=1))
write("vhost_msg", "set_mem_table_2", msg(5, struct.pack("<II", 2, 0) + region * 2, fds=2))
write("vhost_msg", "set_vring_num", msg(8, struct.pack("<II", 1, 256)))
write("vhost_msg", "set_vring_addr", msg(9, struct.pack("<IIQQQQ", 1, 0, 0x7F0000001000,
                                                        0x7F0000003000, 0x7F0000002000, 0)))
write("vhost_msg", "get_vring_base", msg(11, struct.pack("<II", 1, 0)))
write("vhost_msg", "set_vring_kick", msg(12, u64(1), fds=1))
write("vhost_msg", "set_vring_kick_nofd", msg(12, u64(1 | 0x100)))
write("vhost_msg", "set_vring_call", msg(13, u64(0), fds=1))
write("vhost_msg", "get_config", msg(24, struct.pack("<III", 0, 10, 0) + bytes(10)))
write("vhost_msg", "add_mem_reg", msg(37, u64(0) + region, fds=1))
write("vhost_msg", "rem_mem_reg", msg(38, u64(0) + region))
write("vhost_msg", "send_rarp", msg(19, bytes([2, 0, 0, 0, 0, 1, 0, 0])))
write("vhost_msg", "unknown", msg(99, bytes(17)))
write("vhost_msg", "truncated", msg(2, u64(0))[:10])


# ---- virtq: 8 config bytes + guest memory (rings at 0, buffers after; gpa base 0x10000) ----
GPA = 0x10000


def ring(qsize_log2, mode, feats, chains, indirect=False, hdr12=True, frame_len_byte=20):
    q = 1 << qsize_log2
    avail_off = 16 * q
    used_off = (avail_off + 4 + 2 * q + 2 + 3) & ~3
    buf_off = (used_off + 4 + 8 * q + 2 + 15) & ~15
    mem = bytearray(buf_off + 4096)
    nxt = buf_off
    d = 0
    heads = []
    for chain in chains:  # chain: list of (len, writable)
        if indirect:
            table = nxt
            nxt += 16 * len(chain)
            for k, (ln, w) in enumerate(chain):
                flags = (2 if w else 0) | (1 if k + 1 < len(chain) else 0)
                struct.pack_into("<QIHH", mem, table + 16 * k, GPA + nxt, ln, flags, k + 1)
                nxt += ln
            struct.pack_into("<QIHH", mem, 16 * d, GPA + table, 16 * len(chain), 4, 0)
            heads.append(d)
            d += 1
            continue
        heads.append(d)
        for k, (ln, w) in enumerate(chain):
            flags = (2 if w else 0) | (1 if k + 1 < len(chain) else 0)
            struct.pack_into("<QIHH", mem, 16 * d, GPA + nxt, ln, flags, d + 1)
            nxt += ln
            d += 1
    for i, h in enumerate(heads):
        struct.pack_into("<H", mem, avail_off + 4 + 2 * i, h)
    struct.pack_into("<H", mem, avail_off + 2, len(heads))
    cfg = bytes([qsize_log2 | mode << 4, feats, 0, 0, 0xFF, 0x7F, 1 if hdr12 else 0,
                 frame_len_byte])
    return cfg + bytes(mem[: nxt + 16])


write("virtq", "pop_direct", ring(3, 0, 0, [[(64, False), (64, True)], [(100, False)]]))
write("virtq", "pop_indirect", ring(3, 0, 2, [[(32, False), (32, True)]], indirect=True))
write("virtq", "tx_two_frames", ring(3, 1, 1, [[(12, False), (60, False)], [(72, False)]]))
write("virtq", "tx_indirect", ring(4, 1, 3, [[(12, False), (100, False)]], indirect=True))
write("virtq", "rx_plain", ring(3, 2, 0, [[(1600, True)], [(1600, True)]]))
write("virtq", "rx_mergeable", ring(4, 3, 1, [[(64, True)]] * 8, frame_len_byte=60))


# ---- offload: flags, gso, ecn, caps, scatter-1, gso_size, csum_start, csum_offset + frame ----
def ipv4_tcp(payload, tag=False, udp=False):
    eth = bytes(12) + (b"\x81\x00\x00\x0a" if tag else b"") + b"\x08\x00"
    l4 = (struct.pack(">HHH", 1, 2, 8 + payload) + b"\0\0") if udp else \
        struct.pack(">HHIIBBHHH", 1, 2, 100, 0, 0x50, 0x19, 1000, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + payload, 1, 0x4000, 64,
                     17 if udp else 6, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02")
    return eth, eth + ip + l4 + bytes(range(256)) * (payload // 256) + bytes(payload % 256)


def ipv6_tcp(payload):
    eth = bytes(12) + b"\x86\xdd"
    l4 = struct.pack(">HHIIBBHHH", 1, 2, 100, 0, 0x50, 0x19, 1000, 0, 0)
    ip = struct.pack(">IHBB16s16s", 0x60000000, len(l4) + payload, 6, 64, bytes(16), bytes(16))
    return eth, eth + ip + l4 + bytes(payload)


def ol(flags, gso, caps, step, gso_size, cs, co, ecn=0):
    return bytes([flags, gso, ecn, caps, step]) + struct.pack("<HHH", gso_size, cs, co)


eth, f = ipv4_tcp(4000)
write("offload", "tcp4_gso", ol(1, 1, 0, 255, 1448, len(eth) + 20, 16) + f)
eth, f = ipv4_tcp(3000, tag=True)
write("offload", "tcp4_tagged_gso_csum_cap", ol(1, 1, 1, 100, 1000, len(eth) + 20, 16, 1) + f)
eth, f = ipv6_tcp(5000)
write("offload", "tcp6_gso", ol(1, 2, 0, 7, 1440, len(eth) + 40, 16) + f)
eth, f = ipv4_tcp(2000, udp=True)
write("offload", "udp4_uso", ol(1, 3, 0, 63, 700, len(eth) + 20, 6) + f)
eth, f = ipv4_tcp(500, udp=True)
write("offload", "udp4_csum", ol(1, 0, 0, 31, 0, len(eth) + 20, 6) + f)
eth, f = ipv4_tcp(9000)
write("offload", "tcp4_whole_nat", ol(1, 1, 2, 255, 1448, len(eth) + 20, 16) + f)
