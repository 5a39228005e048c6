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


def transport_seed():
    """bring a virtio-blk device up through its registers, then notify queue 0
    with the blk-read chain in RAM"""
    W, R, N = 1, 0, 2
    regs = [(W, 0x70, 1), (W, 0x70, 3), (W, 0x24, 1), (W, 0x20, 1), (W, 0x70, 0xb),
            (R, 0x70, 0), (W, 0x30, 0), (R, 0x34, 0), (W, 0x38, 8), (W, 0x80, 0), (W, 0x90, 0x1000),
            (W, 0xa0, 0x2000), (W, 0x44, 1), (W, 0x70, 0xf), (N, 0, 0), (R, 0x60, 0), (W, 0x64, 1)]
    ops = b''.join(struct.pack('<BBI', op, off // 4, val) for op, off, val in regs)
    body = seeds['blk-read'][:-2]
    return ops + body + bytes([len(regs), 3, 8])


seeds['transport-blk-read'] = transport_seed()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
