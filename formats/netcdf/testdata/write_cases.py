"""Writes NetCDF files with netCDF4 (NETCDF4, NETCDF4_CLASSIC and the three classic formats)
and xarray (engines netcdf4, h5netcdf, scipy), then reads each back with the netCDF-C library
(netCDF4, masking and scaling off) and writes manifest.json with every dimension, variable,
value and attribute, for the Go test to compare against.

usage: python3 write_cases.py OUTDIR
"""
import json
import os
import sys

import netCDF4
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(11)
files = []


def nc_file(name, fmt):
    path = os.path.join(out, name)
    ds = netCDF4.Dataset(path, "w", format=fmt)
    nc4 = fmt == "NETCDF4"
    classic_types = ["i1", "i2", "i4", "f4", "f8"] + (["i8"] if fmt == "NETCDF3_64BIT_DATA" else [])
    types = classic_types + (["u1", "u2", "u4", "u8", "i8"] if nc4 or fmt == "NETCDF3_64BIT_DATA" else [])
    types = sorted(set(types))
    ds.createDimension("time", None)
    ds.createDimension("x", 7)
    ds.createDimension("y", 3)
    ds.createDimension("strlen", 6)
    ds.title = "ventral netcdf test"
    ds.count = np.int32(4)
    ds.values = np.array([1.5, -2.25], dtype="f8")
    ds.fvals = np.array([0.1], dtype="f4")
    ds.shorts = np.array([-3, 7], dtype="i2")
    for i in range(10):
        setattr(ds, "extra%d" % i, "global %d" % i)
    for t in types:
        v = ds.createVariable("v_" + t, t, ("x", "y"))
        if t[0] == "f":
            v[:] = rng.standard_normal((7, 3)).astype(t)
        else:
            info = np.iinfo(t)
            a = rng.integers(info.min, info.max, size=(7, 3), dtype=t, endpoint=True)
            a[0, 0], a[0, 1] = info.min, info.max
            v[:] = a
        v.long_name = "variable of type " + t
    r = ds.createVariable("rec", "f8", ("time", "x"))
    r[0:4, :] = rng.standard_normal((4, 7))
    r.units = "Hz"
    r.valid_range = np.array([-10.0, 10.0])
    r2 = ds.createVariable("rec_i", "i4", ("time",))
    r2[:] = np.arange(4, dtype="i4") * 5
    r3 = ds.createVariable("rec_c", "S1", ("time", "strlen"))
    r3[:] = netCDF4.stringtochar(np.array(["ab", "cdef", "", "xyz"], dtype="S6"))
    c = ds.createVariable("chars", "S1", ("y", "strlen"))
    c[:] = netCDF4.stringtochar(np.array(["one", "three", "sixsix"], dtype="S6"))
    x = ds.createVariable("x", "f4", ("x",))
    x[:] = np.arange(7) * 0.5
    s = ds.createVariable("scalar", "f8", ())
    s[...] = 2.75
    if fmt.startswith("NETCDF4"):
        z = ds.createVariable("zipped", "f8", ("x", "y"), zlib=True, complevel=4, shuffle=True, chunksizes=(2, 2))
        z[:] = rng.standard_normal((7, 3))
        fl = ds.createVariable("filled", "f4", ("x",), fill_value=-999.0)
        fl[0:3] = [1, 2, 3]
    if nc4:
        st = ds.createVariable("strings", str, ("y",))
        st[:] = np.array(["alpha", "", "gamma"], dtype=object)
        ds.setncattr_string("slist", ["p", "qq"])
    ds.close()
    files.append(name)


for name, fmt in [("nc4.nc", "NETCDF4"), ("nc4classic.nc", "NETCDF4_CLASSIC"), ("cdf1.nc", "NETCDF3_CLASSIC"),
                  ("cdf2.nc", "NETCDF3_64BIT_OFFSET"), ("cdf5.nc", "NETCDF3_64BIT_DATA")]:
    nc_file(name, fmt)

# a single record variable: classic files then store records without padding
ds = netCDF4.Dataset(os.path.join(out, "onerec.nc"), "w", format="NETCDF3_CLASSIC")
ds.createDimension("t", None)
ds.createDimension("k", 3)
v = ds.createVariable("b", "i1", ("t", "k"))
v[0:5, :] = np.arange(15, dtype="i1").reshape(5, 3)
ds.close()
files.append("onerec.nc")

try:
    import xarray as xr
    import pandas as pd
    da = xr.DataArray(rng.standard_normal((6, 4, 2)), dims=("presentation", "neuroid", "time_bin"),
                      coords={"stimulus_id": ("presentation", ["s1", "s2", "s1", "s3", "s2", "s1"]),
                              "repetition": ("presentation", [0, 0, 1, 0, 1, 2]),
                              "neuroid_id": ("neuroid", ["n0", "n1", "n2", "n3"]),
                              "region": ("neuroid", ["V4", "V4", "IT", "IT"]),
                              "time_bin_start": ("time_bin", [70, 170]),
                              "time_bin_end": ("time_bin", [170, 270])}, name="data")
    da[1, 2, 0] = np.nan
    for engine in ["netcdf4", "h5netcdf", "scipy"]:
        try:
            da.to_netcdf(os.path.join(out, "xr_%s.nc" % engine), engine=engine)
            files.append("xr_%s.nc" % engine)
        except Exception as e:
            print("skipping engine", engine, e, file=sys.stderr)
except ImportError:
    pass


def enc(a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return {"float": [float(x).hex() for x in a.ravel()]}
    if a.dtype.kind in "iu":
        return {"int": [str(int(x)) for x in a.ravel()]}
    if a.dtype.kind == "S":
        if a.ndim >= 1:
            a = netCDF4.chartostring(a) if a.dtype.itemsize == 1 else a
        return {"str": [x.decode() if isinstance(x, bytes) else str(x) for x in np.ravel(a)]}
    if a.dtype.kind in "OU":
        return {"str": [x.decode() if isinstance(x, bytes) else str(x) for x in np.ravel(a)]}
    raise TypeError(a.dtype)


names = {"i1": "byte", "u1": "ubyte", "i2": "short", "u2": "ushort", "i4": "int", "u4": "uint", "i8": "int64",
         "u8": "uint64", "f4": "float", "f8": "double", "S1": "char"}
manifest = {}
for name in files:
    ds = netCDF4.Dataset(os.path.join(out, name))
    ds.set_auto_maskandscale(False)
    ds.set_auto_chartostring(False)
    m = {"format": ds.data_model, "disk_format": ds.disk_format,
         "dims": [[d.name, len(d), d.isunlimited()] for d in ds.dimensions.values()],
         "attrs": {}, "vars": {}}
    for k in ds.ncattrs():
        v = ds.getncattr(k)
        m["attrs"][k] = {"text": v} if isinstance(v, str) else enc(v)
    for vn, v in ds.variables.items():
        vals = v[...]
        if v.dtype == str:
            t = "string"
        else:
            t = names[v.dtype.str.lstrip("<>|=")]
        e = enc(np.asarray(vals)) if t != "char" else enc(np.asarray(vals))
        e["dims"] = list(v.dimensions)
        e["shape"] = list(v.shape)
        e["type"] = t
        e["attrs"] = {}
        for k in v.ncattrs():
            a = v.getncattr(k)
            e["attrs"][k] = {"text": a} if isinstance(a, str) else enc(a)
        m["vars"][vn] = e
    manifest[name] = m
    ds.close()

with open(os.path.join(out, "manifest.json"), "w") as fh:
    json.dump(manifest, fh)
