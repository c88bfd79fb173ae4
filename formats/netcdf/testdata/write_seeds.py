"""Writes the small NetCDF files of the fuzz seed corpus (testdata/seed_*.nc).

usage: python3 write_seeds.py OUTDIR
"""
import os
import sys

import netCDF4
import numpy as np

out = sys.argv[1]
for name, fmt in [("seed_cdf1.nc", "NETCDF3_CLASSIC"), ("seed_cdf2.nc", "NETCDF3_64BIT_OFFSET"),
                  ("seed_cdf5.nc", "NETCDF3_64BIT_DATA"), ("seed_nc4.nc", "NETCDF4")]:
    ds = netCDF4.Dataset(os.path.join(out, name), "w", format=fmt)
    ds.createDimension("t", None)
    ds.createDimension("x", 3)
    ds.createDimension("n", 4)
    ds.title = "seed"
    ds.vals = np.array([1, 2], dtype="i2")
    a = ds.createVariable("a", "f8", ("t", "x"))
    a[0:2, :] = np.arange(6.0).reshape(2, 3)
    a.units = "Hz"
    b = ds.createVariable("b", "i4", ("t",))
    b[0:2] = [5, 6]
    c = ds.createVariable("c", "S1", ("x", "n"))
    c[:] = netCDF4.stringtochar(np.array(["ab", "cde", ""], dtype="S4"))
    x = ds.createVariable("x", "f4", ("x",))
    x[:] = [0.5, 1.5, 2.5]
    if fmt == "NETCDF3_64BIT_DATA":
        u = ds.createVariable("u", "u8", ("x",))
        u[:] = [1, 2, 3]
    if fmt == "NETCDF4":
        s = ds.createVariable("s", str, ("x",))
        s[:] = np.array(["p", "qq", "r"], dtype=object)
    ds.close()
