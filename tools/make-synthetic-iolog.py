#!/usr/bin/env python3
"""A synthetic fio v3 iolog for replay benchmarks: N requests of 4 KiB, 50 % writes, 48 % reads,
2 % syncs, 80 % of them in a 256 MiB hot zone of a 1 GiB device. Deterministic (seed 1).

    tools/make-synthetic-iolog.py 2000000 /dev/shm/big.v3.iolog
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "/dev/shm/big.v3.iolog"
random.seed(1)
with open(out, "w") as f:
    f.write("fio version 3 iolog\n0 d add\n0 d open\n")
    t = 0
    for i in range(n):
        t += 1
        r = random.random()
        blk = random.randrange(0, 65536) if random.random() < 0.8 else random.randrange(0, 262144)
        if r < 0.5:
            f.write(f"{t} d write {blk * 4096} 4096\n")
        elif r < 0.98:
            f.write(f"{t} d read {blk * 4096} 4096\n")
        else:
            f.write(f"{t} d sync 0 0\n")
    f.write(f"{t} d close\n")
