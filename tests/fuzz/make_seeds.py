#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpora of the fuzz targets (one folder per target under corpus/).
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


# ---- packed_virtq: 8 config bytes + guest memory (descriptor ring at 0, driver event, device
# event, buffers after; gpa base 0x10000) ----
def packed_ring(qsize, mode, feats, chains, indirect=False, hdr12=True, reverse=False,
                frame_len_byte=20):
    ev = 16 * qsize
    buf_off = (ev + 8 + 15) & ~15
    mem = bytearray(buf_off + 4096)
    nxt = buf_off
    d = 0
    for i, chain in enumerate(chains):  # chain: list of (len, writable); buffer id 100 + i
        wrap = (d // qsize) % 2 == 0
        bits = 1 << 7 if wrap else 1 << 15
        if indirect:
            table = nxt
            nxt += 16 * len(chain)
            for k, (ln, w) in enumerate(chain):
                struct.pack_into("<QIHH", mem, table + 16 * k, GPA + nxt, ln, 0, 2 if w else 0)
                nxt += ln
            struct.pack_into("<QIHH", mem, 16 * (d % qsize), GPA + table, 16 * len(chain),
                             100 + i, 4 | bits)
            d += 1
            continue
        for k, (ln, w) in enumerate(chain):
            last = k + 1 == len(chain)
            bits = 1 << 7 if (d // qsize) % 2 == 0 else 1 << 15
            flags = (2 if w else 0) | (0 if last else 1) | bits
            struct.pack_into("<QIHH", mem, 16 * (d % qsize), GPA + nxt, ln,
                             100 + i if last else 0, flags)
            nxt += ln
            d += 1
    cfg = bytes([(qsize - 1) | mode << 6, feats, 0, 0x80, 0xFF, 0x7F,
                 (1 if hdr12 else 0) | (2 if reverse else 0), frame_len_byte])
    return cfg + bytes(mem[: nxt + 16])


write("packed_virtq", "pop_chains", packed_ring(8, 0, 0, [[(64, False), (64, True)], [(100, False)]]))
write("packed_virtq", "pop_reverse", packed_ring(5, 0, 1, [[(8, False)] * 2] * 3, reverse=True))
write("packed_virtq", "pop_indirect", packed_ring(8, 0, 2, [[(32, False), (32, True)]], indirect=True))
write("packed_virtq", "tx_two_frames", packed_ring(10, 1, 1, [[(12, False), (60, False)], [(72, False)]]))
write("packed_virtq", "tx_indirect", packed_ring(16, 1, 3, [[(12, False), (100, False)]], indirect=True))
write("packed_virtq", "rx_plain", packed_ring(8, 2, 0, [[(1600, True)], [(1600, True)]]))
write("packed_virtq", "rx_mergeable", packed_ring(12, 3, 1 | 8 | 16, [[(64, True)]] * 8, frame_len_byte=60))


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


# ---- vhost_device: config byte, then [fd byte][u8 len][header + payload] per message ----
def dmsg(req, payload=b"", fds=0, flags=1):
    body = struct.pack("<III", req, flags, len(payload)) + payload
    big = 0x20 if len(body) >= 256 else 0
    return bytes([fds | big, len(body) & 0xFF]) + body


ring_addr = lambda i, base: struct.pack("<IIQQQQ", i, 0, base, base + 0x2000, base + 0x1000, 0)
start = (dmsg(1) + dmsg(2, u64(1 << 32 | 1 << 15 | 1 << 29)) + dmsg(15) +
         dmsg(16, u64(1 | 1 << 3)) + dmsg(3) +
         dmsg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x100000, 0x7F0000000000, 0),
              fds=1))
rings = b"".join(dmsg(8, struct.pack("<II", i, 256)) + dmsg(10, struct.pack("<II", i, 0)) +
                 dmsg(9, ring_addr(i, 0x7F0000000000 + 0x10000 * i)) + dmsg(12, u64(i), fds=1) +
                 dmsg(13, u64(i), fds=1) + dmsg(18, struct.pack("<II", i, 1)) for i in range(2))
write("vhost_device", "qemu_start", bytes([0]) + start + rings)
write("vhost_device", "start_stop", bytes([0]) + start + rings +
      dmsg(11, struct.pack("<II", 0, 0)) + dmsg(11, struct.pack("<II", 1, 0)))
write("vhost_device", "add_rem_reg", bytes([1]) + start + rings +
      dmsg(37, u64(0) + struct.pack("<QQQQ", 0x200000, 0x100000, 0x7F0000200000, 0), fds=1) +
      dmsg(38, u64(0) + struct.pack("<QQQQ", 0, 0x100000, 0x7F0000000000, 0)))
write("vhost_device", "mq_mac_config", bytes([7]) + start +
      dmsg(17) + dmsg(24, struct.pack("<III", 0, 12, 0) + bytes(12)) + dmsg(19, bytes(8)) +
      dmsg(20, u64(9000)) + dmsg(39, u64(15)) + dmsg(40) + dmsg(36))
write("vhost_device", "kick_nofd_no_pf", bytes([0]) + dmsg(2, u64(1 << 32)) +
      dmsg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x100000, 0x1000, 0), fds=1) +
      dmsg(8, struct.pack("<II", 1, 64)) + dmsg(9, ring_addr(1, 0x1000)) +
      dmsg(12, u64(1 | 0x100)))


# ---- stream_port: ops (0: u16 len + bytes, 1: u32 prefix, 2: u16 count * 16 of a byte,
#      3: send_burst u8 count + u16 lengths) ----
def sframe(n, fill=0xAB):
    return struct.pack(">I", n) + bytes([fill]) * n


def swrite(b):
    return bytes([0]) + struct.pack(">H", len(b)) + b


write("stream_port", "two_frames", swrite(sframe(60) + sframe(14)))
write("stream_port", "short_and_split", swrite(sframe(5)) + swrite(sframe(100)[:30]) +
      swrite(sframe(100)[30:]))
write("stream_port", "zero_length", swrite(sframe(60)) + swrite(struct.pack(">I", 0)))
write("stream_port", "too_long", bytes([1]) + struct.pack(">I", 65554))
write("stream_port", "big_frame", bytes([1]) + struct.pack(">I", 9000) + bytes([2]) +
      struct.pack(">H", 9000 // 16) + b"\x5a" + bytes([2]) + struct.pack(">H", 0) + b"\x00")
write("stream_port", "send_burst", bytes([3, 3]) + struct.pack(">HHH", 60, 10, 1500) +
      swrite(sframe(64)))


# ---- config: byte 0 picks the parser (0/1 keyval, 2 port, 3 capture, 4 TOML, 5 option) ----
for name, sel, text in [
    ("keyval_leading", 0, "vhost-user,id=vm0,path=/tmp/x,,y.sock,server=on"),
    ("keyval_none", 1, "port=vm0,file=/tmp/vm0.pcap,filter=udp port 53"),
    ("port_vhost", 2, "vhost-user,id=vm0,path=/nonexistent/vm0.sock,server=on,queues=2,vlan=10"),
    ("port_vhost_threads", 2, "vhost-user,id=vm0,path=/nonexistent/vm0.sock,queues=4,"
                              "threads=3:0-1"),
    ("port_vhost_threads_auto", 2, "vhost-user,id=vm1,path=/nonexistent/vm1.sock,queues=4,"
                                   "threads=auto"),
    ("port_tap", 2, "tap,id=t0,ifname=uvs-t0,trunk=10:20"),
    ("port_stream", 2, "stream,id=s0,addr=127.0.0.1:4000,server=off"),
    ("port_dgram", 2, "dgram,id=d0,local=127.0.0.1:5000,remote=127.0.0.1:5001"),
    ("port_nat", 2, "nat,id=nat0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,"
                    "hostfwd=tcp:127.0.0.1:2222-:22,dns-server=127.0.0.1:53,restrict=on"),
    ("capture", 3, "port=vm0,file=/nonexistent/vm0.pcap,filter=arp or icmp,snaplen=128"),
    ("option_threads", 5, "threads\x002"),
    ("option_bad", 5, "poll-max-ns\x00-1"),
]:
    write("config", name, bytes([sel]) + text.encode())
write("config", "toml_full", bytes([4]) + b"""threads = 2
poll-max-ns = 50000
log-level = "debug"
fdb-aging = 0

[[port]]
type = "vhost-user"
id = "vm0"
path = "/nonexistent/vm0.sock"
server = true
queues = 2
threads = "auto"
trunk = [10, 20]

[[port]]
type = "nat"
id = "nat0"
hostfwd = ["tcp:127.0.0.1:2222-:22", "udp::5353-:53"]

[[port]]
port = ["tap,id=t0,ifname=t0"]

[[capture]]
port = "vm0"
file = "/nonexistent/vm0.pcap"
""")
write("config", "toml_bad", bytes([4]) + b"threads = \"x\"\n[[port]]\ntype = 3\nsever = 1\n")


# ---- vlan: in-port, out-port (mode byte, u16 vid, trunk vids), segment byte, u16 csum_start,
#      u16 hdr_len, frame ----
def vcfg(trunk_mode, vid, native=False, trunk=()):
    b = (1 if trunk_mode else 0) | (2 if native else 0) | (len(trunk) << 2)
    return bytes([b]) + struct.pack(">H", vid) + b"".join(struct.pack(">H", t) for t in trunk)


eth = bytes(range(1, 13))
untagged = eth + b"\x08\x00" + bytes(46)
tagged = lambda vid, prio=0: eth + struct.pack(">HH", 0x8100, prio << 13 | vid) + b"\x08\x00" + \
    bytes(46)
write("vlan", "access_to_trunk", vcfg(0, 10) + vcfg(1, 0, trunk=(10, 20)) + b"\x00" +
      struct.pack(">HH", 34, 54) + untagged)
write("vlan", "trunk_to_access", vcfg(1, 0, trunk=(10,)) + vcfg(0, 10) + b"\x15" +
      struct.pack(">HH", 38, 58) + tagged(10, 5))
write("vlan", "priority_native", vcfg(1, 30, native=True, trunk=(10,)) +
      vcfg(1, 0, trunk=(30,)) + b"\x3f" + bytes(4) + tagged(0, 3))
write("vlan", "not_allowed", vcfg(1, 0, trunk=(10,)) + vcfg(0, 1) + b"\x00" + bytes(4) +
      tagged(11))
write("vlan", "stacked", vcfg(1, 0, trunk=(10,)) + vcfg(0, 10) + b"\x01" + bytes(4) +
      eth + struct.pack(">HHHH", 0x8100, 10, 0x8100, 20) + bytes(46))


# ---- dhcp_sniff: Ethernet frames as libslirp sends them ----
def dhcp(msg_type, op=2, sport=67, opts=None, ihl=5):
    bootp = bytes([op, 1, 6, 0]) + bytes(24) + bytes.fromhex("525400123456") + bytes(202) + \
        bytes.fromhex("63825363")
    o = opts if opts is not None else bytes([53, 1, msg_type, 1, 4, 255, 255, 255, 0, 255])
    udp = struct.pack(">HHHH", sport, 68, 8 + len(bootp) + len(o), 0) + bootp + o
    ip = bytes([0x40 | ihl, 0]) + struct.pack(">H", ihl * 4 + len(udp)) + bytes(4) + \
        bytes([64, 17, 0, 0]) + bytes([10, 0, 2, 2]) + bytes([255] * 4) + bytes(ihl * 4 - 20)
    return bytes.fromhex("ffffffffffff525500000202") + b"\x08\x00" + ip + udp


write("dhcp_sniff", "ack", dhcp(5))
write("dhcp_sniff", "offer", dhcp(2))
write("dhcp_sniff", "ack_after_pad", dhcp(5, opts=bytes([0, 0, 1, 4, 255, 255, 255, 0, 53, 1, 5])))
write("dhcp_sniff", "ip_options", dhcp(5, ihl=6))
write("dhcp_sniff", "option_overrun", dhcp(5, opts=bytes([12, 200, 1])))
write("dhcp_sniff", "request", dhcp(3, op=1, sport=68))


# ---- dns_relay: ops (0 raw frame, 1 built query, 2 answer, 3 read) ----
def dq(raw=0, guest=15, port=0, dns=None):
    dns = dns if dns is not None else struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
        b"\x07example\x03com\x00\x00\x01\x00\x01"
    return bytes([1, raw, guest, port]) + struct.pack(">H", len(dns)) + dns


def da(which, dns):
    return bytes([2, which]) + struct.pack(">H", len(dns)) + dns


answer = struct.pack(">HHHHHH", 0, 0x8180, 1, 1, 0, 0) + \
    b"\x07example\x03com\x00\x00\x01\x00\x01" + \
    b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22"
write("dns_relay", "query_answer", dq() + da(0, answer))
write("dns_relay", "two_guests", dq(guest=15) + dq(guest=16, port=7) + da(1, answer) +
      da(0, answer))
write("dns_relay", "unknown_id", dq() + bytes([2, 0xFF, 0xBE, 0xEF]) +
      struct.pack(">H", len(answer)) +
      answer)
write("dns_relay", "big_answer", dq() + da(0, answer + bytes(4500)))
write("dns_relay", "near_misses", b"".join(dq(raw=1 << k) for k in range(8)) + bytes([3]))
write("dns_relay", "duplicate_answer", dq() + da(0, answer) + da(0, answer))


# ---- net_hdr: [acked offload bits] [guest caps] [segment split] + 12-byte header + frame ----
def l4frame(v6=False, proto=6, payload=3000, vlan=0):
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01"
    if vlan:
        eth += struct.pack(">HH", 0x8100, vlan)
    l4len = 32 if proto == 6 else 8
    if v6:
        ip = struct.pack(">HIHBB", 0x86DD, 0x60000000, l4len + payload, proto, 64) + b"\xfd" * 32
        ip = eth + ip
    else:
        ip = eth + struct.pack(">HBBHHHBBH", 0x0800, 0x45, 0, 20 + l4len + payload, 1, 0x4000, 64,
                               proto, 0) + bytes([10, 0, 0, 1, 10, 0, 0, 2])
    if proto == 6:
        l4 = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, 0x80, 0x18, 65535, 0, 0) + b"\x01" * 12
    else:
        l4 = struct.pack(">HHHH", 40000, 4789, 8 + payload, 0)
    return ip + l4 + bytes(i & 0xFF for i in range(payload)), len(ip)


def nethdr(flags, gso, hdr_len, gso_size, cs, co):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, cs, co, 0)


for name, (v6, proto, vlan, gso) in {
    "tso4": (False, 6, 0, 1), "tso6_vlan": (True, 6, 7, 4), "uso4": (False, 17, 0, 5),
    "tso4_ecn": (False, 6, 0, 0x81), "tcpv4_on_udp": (False, 17, 0, 1),
}.items():
    frame, l4 = l4frame(v6, proto, 3000, vlan)
    hdr = nethdr(1, gso, l4 + 32, 1448, l4, 16 if proto == 6 else 6)
    write("net_hdr", name, bytes([0xFF, 0x1F, 0x48]) + hdr + frame)
frame, l4 = l4frame()
write("net_hdr", "plain", bytes([0, 0, 0]) + nethdr(0, 0, 0, 0, 0, 0) + frame)
write("net_hdr", "csum_only", bytes([1, 1, 0x11]) + nethdr(1, 0, 0, 0, l4, 16) + frame)
write("net_hdr", "gso_size_zero", bytes([0xFF, 0x1F, 0]) + nethdr(1, 1, 66, 0, l4, 16) + frame)
write("net_hdr", "csum_range", bytes([0xFF, 0, 0]) + nethdr(1, 0, 0, 0, 0xFFF0, 16) + frame)


# ---- nat_segments: [MTU selector] + an Ethernet frame (guest SYNs, libslirp's output) ----
def tcp4(flags, payload=0, opts=b"", src=(10, 0, 2, 15), dst=(10, 0, 2, 2)):
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, (20 + len(opts)) // 4 << 4, flags, 65535,
                      0, 0) + opts + bytes(i & 0xFF for i in range(payload))
    ip = bytes([0x45, 0]) + struct.pack(">H", 20 + len(tcp)) + bytes([0, 1, 0x40, 0, 64, 6, 0, 0]) + \
        bytes(src) + bytes(dst)
    return bytes.fromhex("525500000202525400123456") + b"\x08\x00" + ip + tcp


def tcp6(flags, payload=0, opts=b""):
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, (20 + len(opts)) // 4 << 4, flags, 65535,
                      0, 0) + opts + bytes(payload)
    ip = bytes([0x60, 0, 0, 0]) + struct.pack(">H", len(tcp)) + bytes([6, 64]) + bytes(range(32))
    return bytes.fromhex("525600000202525400123456") + b"\x86\xdd" + ip + tcp


def udp4(payload, df=False):
    udp = struct.pack(">HHHH", 53, 40000, 8 + payload, 0) + bytes(payload)
    ip = bytes([0x45, 0]) + struct.pack(">H", 20 + len(udp)) + \
        bytes([0x12, 0x34, 0x40 if df else 0, 0, 64, 17, 0, 0, 10, 0, 2, 2, 10, 0, 2, 15])
    return bytes.fromhex("525400123456525500000202") + b"\x08\x00" + ip + udp


write("nat_segments", "syn_mss", b"\x00" + tcp4(0x02, opts=bytes([2, 4, 0x05, 0xb4])))
write("nat_segments", "syn_nop_mss", b"\x00" + tcp4(0x02, opts=bytes([1, 1, 1, 1, 2, 4, 0x05, 0x78])))
write("nat_segments", "syn_no_option", b"\x00" + tcp4(0x02))
write("nat_segments", "syn_bad_option", b"\x00" + tcp4(0x02, opts=bytes([3, 9, 1, 1])))
write("nat_segments", "syn6_mss", b"\x00" + tcp6(0x02, opts=bytes([2, 4, 0x05, 0xa0])))
write("nat_segments", "big_segment", b"\x00" + tcp4(0x18, 5000, src=(10, 0, 2, 2), dst=(10, 0, 2, 15)))
write("nat_segments", "big_segment6", b"\x00" + tcp6(0x18, 4000))
write("nat_segments", "udp_fragments", b"\x00" + udp4(4000))
write("nat_segments", "udp_fragments_small_mtu", b"\x02" + udp4(600))
write("nat_segments", "udp_df", b"\x00" + udp4(3000, df=True))


# ---- vxlan: op 0 datagram (len u16, vni u16+u8, bytes), op 1 learn, op 2 lookup ----
def vx_datagram(flags, vni, inner):
    d = bytes([flags, 0, 0, 0]) + struct.pack("!I", vni << 8) + inner
    return bytes([0]) + struct.pack("!H", len(d)) + struct.pack("!HB", vni >> 8, vni & 0xFF) + d


eth = bytes.fromhex("020000000002" "020000000001" "0800")
ipv4_tcp = (bytes.fromhex("4500003c00004000400600000a0000010a000002") +
            struct.pack("!HH", 40000, 5201) + bytes(16))
ipv6_udp = (bytes.fromhex("6000000000081140") + bytes(15) + b"\x01" + bytes(15) + b"\x02" +
            struct.pack("!HH", 4789, 53) + bytes(4))
write("vxlan", "ok_tcp4", vx_datagram(0x08, 42, eth + ipv4_tcp))
write("vxlan", "ok_udp6", vx_datagram(0x08, 0xFFFFFF, eth[:12] + b"\x86\xdd" + ipv6_udp))
write("vxlan", "tagged", vx_datagram(0x08, 7, eth[:12] + b"\x81\x00\x00\x0a\x08\x00" + ipv4_tcp))
write("vxlan", "no_i_flag", vx_datagram(0x00, 42, eth + bytes(46)))
write("vxlan", "short", vx_datagram(0x08, 42, eth[:10]))
learn = bytes([1]) + bytes.fromhex("020000000001") + bytes([3, 1])
lookup = bytes([2]) + bytes.fromhex("020000000001")
write("vxlan", "learn_lookup", learn + lookup + bytes([1]) + bytes.fromhex("020000000001") +
      bytes([5, 3]) + lookup)
