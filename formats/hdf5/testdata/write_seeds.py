"""Writes the small HDF5 files of the fuzz seed corpus (testdata/seed_*.h5).

usage: python3 write_seeds.py OUTDIR
"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]


def fill(f):
    f.attrs["title"] = "seed"
    f.attrs["v"] = np.array([1.5, 2.5])
    f.create_dataset("c", data=np.arange(24, dtype="<f4").reshape(4, 6), chunks=(2, 4), compression="gzip", shuffle=True, fletcher32=True)
    f.create_dataset("b", data=np.arange(6, dtype=">i2"))
    f.create_dataset("s", data=np.array(["x", "yy"], dtype=object), dtype=h5py.string_dtype())
    f.create_dataset("fs", data=np.array([b"ab", b"c"], dtype="S2"))
    g = f.create_group("g")
    g["r"] = np.array([1.0, 2.0])
    g.attrs["DIMENSION_LIST_like"] = np.array([3], dtype=np.uint8)


with h5py.File(os.path.join(out, "seed_v0.h5"), "w") as f:
    fill(f)
with h5py.File(os.path.join(out, "seed_latest.h5"), "w", libver="latest") as f:
    fill(f)
    f.create_dataset("fa", data=np.arange(20.0).reshape(4, 5), chunks=(2, 2))
    f.create_dataset("bt", data=np.arange(20.0).reshape(4, 5), chunks=(2, 2), maxshape=(None, None))
    f.create_dataset("ea", data=np.arange(30.0).reshape(6, 5), chunks=(2, 2), maxshape=(None, 5), compression="gzip")
    f["g"].attrs["huge"] = np.arange(9000, dtype=np.int8)
    for i in range(10):
        f["g"].attrs["a%d" % i] = i
        f["g/l%d" % i] = np.array([i])
