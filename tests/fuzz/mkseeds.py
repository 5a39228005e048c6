#!/usr/bin/env python3
"""Write tests/fuzz/seeds/: well-formed inputs for virtq_fuzz (layout in
virtq_fuzz.c): a blk read, a write through an indirect table, a flush."""
import os
import struct

NEXT, WRITE, INDIRECT = 1, 2, 4


def image(descs, heads, blobs, lognum=3, feat=0, indirect=None):
    ram = bytearray(0x3400)
    for i, (addr, ln, flags, nxt) in enumerate(descs):
        struct.pack_into('<QIHH', ram, 16 * i, addr, ln, flags, nxt)
    struct.pack_into('<HH', ram, 0x1000, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into('<H', ram, 0x1004 + 2 * i, h)
    for table, entries in (indirect or {}).items():
        for i, (addr, ln, flags, nxt) in enumerate(entries):
            struct.pack_into('<QIHH', ram, table + 16 * i, addr, ln, flags, nxt)
    for addr, data in blobs:
        ram[addr:addr + len(data)] = data
    return bytes(ram) + bytes([lognum, feat])


def hdr(t, sector):
    return struct.pack('<IIQ', t, 0, sector)


seeds = {
    'blk-read': image([(0x3000, 16, NEXT, 1), (0x3100, 512, NEXT | WRITE, 2), (0x3300, 1, WRITE, 0)],
                      [0], [(0x3000, hdr(0, 3))]),
    'blk-write-indirect': image([(0x3040, 48, INDIRECT, 0)], [0], [(0x3000, hdr(1, 1))], feat=1,
                                indirect={0x3040: [(0x3000, 16, NEXT, 1), (0x3100, 512, NEXT, 2),
                                                   (0x3300, 1, WRITE, 0)]}),
    'blk-flush-getid': image([(0x3000, 16, NEXT, 1), (0x3300, 1, WRITE, 0),
                              (0x3010, 16, NEXT, 3), (0x3100, 20, NEXT | WRITE, 4), (0x3301, 1, WRITE, 0)],
                             [0, 2], [(0x3000, hdr(4, 0)), (0x3010, hdr(8, 0))], feat=2),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
