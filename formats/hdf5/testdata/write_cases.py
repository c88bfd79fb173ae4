"""Writes HDF5 files with h5py covering the storage layouts, filters, datatypes, group and
attribute storage that formats/hdf5 reads, plus manifest.json: for every file, the datasets and
attributes with their exact values, for the Go test to compare against.

usage: python3 write_cases.py OUTDIR
"""
import json
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
manifest = {}


def enc(v):
    """JSON form of an array: floats as hex strings (exact, NaN-safe), ints as decimal strings."""
    a = np.asarray(v)
    if a.dtype.kind == 'f':
        return {"float": [float(x).hex() for x in a.ravel()]}
    if a.dtype.kind in 'iub':
        return {"int": [str(int(x)) for x in a.ravel()]}
    if a.dtype.kind in 'SO' or a.dtype.kind == 'U':
        vals = []
        for x in a.ravel():
            if isinstance(x, bytes):
                x = x.decode('utf-8')
            vals.append(str(x))
        return {"str": vals}
    raise TypeError(a.dtype)


def record(fname, f):
    entry = {"datasets": {}, "attrs": {}, "errors": {}}

    def visit(name, obj):
        path = "/" + name
        if isinstance(obj, h5py.Dataset):
            if obj.dtype.kind in 'fiubSO' and obj.name not in skip:
                data = obj[()]
                if obj.dtype.kind == 'O':
                    data = np.array([x.decode() if isinstance(x, bytes) else x for x in np.ravel(data)], dtype=object)
                d = enc(data)
                d["shape"] = list(obj.shape)
                d["dtype"] = obj.dtype.str if obj.dtype.kind != 'O' else 'vlen'
                entry["datasets"][path] = d
        for k, v in obj.attrs.items():
            if k in ("DIMENSION_LIST", "REFERENCE_LIST"):
                continue
            entry["attrs"][path + "@" + k] = enc(v)

    for k, v in f.attrs.items():
        entry["attrs"]["/@" + k] = enc(v)
    f.visititems(visit)
    entry["errors"] = errors.get(fname, {})
    manifest[fname] = entry


skip = set()
errors = {}


def compact(f, name, data):
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple(data.shape)
    tid = h5py.h5t.py_create(data.dtype)
    ds = h5py.h5d.create(f.id, name.encode(), tid, space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, data)


def common(f):
    f.attrs["title"] = "ventral test"
    f.attrs["version"] = np.int32(3)
    f.attrs["scale"] = np.array([0.5, -1.25, np.nan])
    f.attrs["fixed"] = np.bytes_("abc")
    f.attrs["names"] = np.array(["a", "bb", "ccc"], dtype=h5py.string_dtype())
    f["contig_f64"] = rng.standard_normal((7, 5))
    f["contig_f32"] = rng.standard_normal((3, 4)).astype(np.float32)
    f["f16"] = np.array([0.5, -2, 65504, 1e-7, np.inf], dtype=np.float16)
    for t in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
        info = np.iinfo(t)
        vals = np.array([info.min, info.max, 0, 1, info.max // 3], dtype=t)
        f["le_" + t] = vals
        f["be_" + t] = vals.astype(">" + t)
    f["be_f8"] = rng.standard_normal(6).astype(">f8")
    f["be_f4"] = rng.standard_normal(6).astype(">f4")
    compact(f, "compact_i4", np.arange(12, dtype=np.int32).reshape(3, 4))
    compact(f, "compact_f8", np.linspace(0, 1, 5))
    f["scalar"] = 3.5
    f["bools"] = np.array([[True, False], [False, True]])  # an enum of int8
    f.attrs["flag"] = np.bool_(True)
    f["empty"] = np.zeros((0,), dtype=np.float64)
    a = rng.standard_normal((23, 17, 5))
    a[3, 4, 1] = np.nan
    f.create_dataset("chunk_plain", data=a, chunks=(5, 4, 2))
    f.create_dataset("chunk_gzip", data=a, chunks=(5, 4, 5), compression="gzip", compression_opts=6)
    f.create_dataset("chunk_shuffle_gzip", data=a, chunks=(4, 17, 5), shuffle=True, compression="gzip")
    f.create_dataset("chunk_fletcher", data=a, chunks=(8, 8, 5), fletcher32=True)
    f.create_dataset("chunk_all", data=np.arange(1000, dtype=np.int64).reshape(40, 25), chunks=(7, 6),
                     shuffle=True, compression="gzip", fletcher32=True)
    part = f.create_dataset("chunk_partial", shape=(20, 10), dtype="f4", chunks=(5, 5), fillvalue=-7.5)
    part[0:5, 0:5] = 1.0
    part[12, 7] = 2.0
    f.create_dataset("chunk_unwritten", shape=(6,), dtype="i2", chunks=(2,), fillvalue=42)
    f.create_dataset("many_chunks", data=np.arange(3000, dtype=np.int32), chunks=(1,))
    f.create_dataset("str_fixed", data=np.array([b"one", b"two", b"three", b""], dtype="S5"))
    f.create_dataset("str_vlen", data=np.array(["alpha", "", "gamma delta", "\u00e9t\u00e9"], dtype=object),
                     dtype=h5py.string_dtype())
    f.create_dataset("str_vlen_2d", data=np.array([["a", "b"], ["c", "dd"]], dtype=object), dtype=h5py.string_dtype(),
                     chunks=(1, 2), compression="gzip")
    f.create_dataset("str_vlen_ascii", data=np.array([b"x", b"yz"], dtype=object), dtype=h5py.string_dtype("ascii"))
    g = f.create_group("grp/sub")
    g["deep"] = np.arange(4.0)
    g.attrs["note"] = "deep"
    big = f.create_group("big")
    for i in range(70):
        big["m%02d" % i] = np.array([i], dtype=np.int16)
    f["soft"] = h5py.SoftLink("/grp/sub/deep")
    d = f["contig_f64"]
    for i in range(12):
        d.attrs["a%02d" % i] = np.float64(i) / 3
    d.attrs["units"] = "spikes/s"
    d.attrs["ivec"] = np.array([1, 2, 3], dtype=np.int64)


with h5py.File(os.path.join(out, "default.h5"), "w") as f:
    common(f)
    record("default.h5", f)

with h5py.File(os.path.join(out, "latest.h5"), "w", libver="latest") as f:
    common(f)
    a = np.arange(120, dtype=np.float64).reshape(10, 12)
    f.create_dataset("single", data=a, chunks=(10, 12))
    f.create_dataset("single_gzip", data=a, chunks=(10, 12), compression="gzip")
    f.create_dataset("farray", data=a, chunks=(3, 5))
    f.create_dataset("farray_gzip", data=a, chunks=(3, 5), compression="gzip", shuffle=True)
    f.create_dataset("farray_paged", data=np.arange(3000, dtype=np.int32), chunks=(1,))
    f.create_dataset("bt2", data=a, chunks=(3, 5), maxshape=(None, None))
    f.create_dataset("bt2_gzip", data=a, chunks=(3, 5), maxshape=(None, None), compression="gzip")
    f.create_dataset("earray", data=a, chunks=(3, 5), maxshape=(None, 12))
    f.create_dataset("earray_swizzled", data=a.T, chunks=(5, 3), maxshape=(12, None))
    f.create_dataset("earray_gzip", data=a, chunks=(3, 5), maxshape=(None, 12), compression="gzip")
    f.create_dataset("earray_many", data=np.arange(3000, dtype=np.int32), chunks=(1,), maxshape=(None,),
                     compression="gzip")
    e = f.create_dataset("earray_partial", shape=(40, 3), dtype="f8", chunks=(2, 3), maxshape=(None, 3), fillvalue=0.25)
    e[10:14] = 1.5
    f["contig_f64"].attrs["huge"] = np.arange(20000.0)  # dense storage: a huge fractal-heap object
    record("latest.h5", f)

with h5py.File(os.path.join(out, "tracked.h5"), "w", track_order=True) as f:
    common(f)
    for i in range(20):
        f.attrs["g%02d" % i] = "value %d" % i
    record("tracked.h5", f)

with h5py.File(os.path.join(out, "userblock.h5"), "w", userblock_size=512) as f:
    common(f)
    record("userblock.h5", f)

with h5py.File(os.path.join(out, "v108.h5"), "w", libver=("v108", "v108")) as f:
    common(f)
    record("v108.h5", f)

with open(os.path.join(out, "manifest.json"), "w") as fh:
    json.dump(manifest, fh)
