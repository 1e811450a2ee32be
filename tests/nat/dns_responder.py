# SPDX-License-Identifier: MIT
# A minimal DNS responder for the NAT tests: answers every A query with one fixed address, on
# the loopback address and port it is given, so tests never need outside DNS.
import socket
import struct
import sys

addr, port, answer = sys.argv[1], int(sys.argv[2]), socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    qid, _flags, qd = struct.unpack("!HHH", q[:6])
    # The question section ends after the name's zero label plus QTYPE and QCLASS.
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    qend = i + 5
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if qend <= len(q) else 0
    question = q[12:qend]
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + answer
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr, peer)
    else:  # no AAAA (or other) data: an empty NOERROR answer
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question, peer)
