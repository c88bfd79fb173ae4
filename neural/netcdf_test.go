package neural

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeAssemblies is run by /usr/bin/python3: it saves Brain-Score-like assemblies with xarray
// and, for each, what the assembly must hold, computed with xarray's own decoding and
// dimension handling: stimuli in order of first presentation, repetitions ordered by the
// repetition coordinate and NaN-padded, values as [stimulus, neuroid, time_bin, repetition].
const writeAssemblies = `
import json, os, sys
import numpy as np, xarray as xr

out = sys.argv[1]
rng = np.random.default_rng(5)
engines = ["netcdf4", "scipy"]
try:
    import h5netcdf
    engines.append("h5netcdf")
except ImportError:
    pass

def brainscore(order):
    ids = ["s3", "s1", "s2", "s1", "s4", "s2", "s1", "s4"]
    reps = [0, 2, 1, 0, 0, 0, 1, 1]
    obj = {"s1": "car", "s2": "dog", "s3": "car", "s4": "face"}
    data = rng.standard_normal((8, 5, 2))
    data[2, 3, 1] = np.nan
    da = xr.DataArray(data, dims=("presentation", "neuroid", "time_bin"), coords={
        "stimulus_id": ("presentation", ids),
        "repetition": ("presentation", reps),
        "object_name": ("presentation", [obj[i] for i in ids]),
        "trial_time": ("presentation", np.arange(8) * 1.5),
        "neuroid_id": ("neuroid", ["Chabo_L_M_%d" % i for i in range(5)]),
        "region": ("neuroid", ["V4", "V4", "IT", "IT", "IT"]),
        "animal": ("neuroid", ["chabo"] * 3 + ["tito"] * 2),
        "time_bin_start": ("time_bin", [70, 170]),
        "time_bin_end": ("time_bin", [170, 270]),
    }, name="data")
    return da.transpose(*order)

cases = {}
def save(name, da, engine, encoding=None):
    path = os.path.join(out, name)
    da.to_netcdf(path, engine=engine, encoding=encoding)
    back = xr.open_dataarray(path, engine=engine).load()
    if encoding:
        # xarray decodes packed int16 to float32; the reader decodes in float64, so the
        # expected values are computed here in float64 from the stored integers
        raw = xr.open_dataarray(path, engine=engine, mask_and_scale=False).load()
        x = raw.values.astype(np.float64)
        x[raw.values == raw.attrs["_FillValue"]] = np.nan
        x = x * raw.attrs.get("scale_factor", 1.0) + raw.attrs.get("add_offset", 0.0)
        back = raw.copy(data=x)
    cases[name] = expected(back)

def expected(da):
    pres = "presentation" if "presentation" in da.dims else "stimulus"
    rep_dim = "repetition" if "repetition" in da.dims else None
    dims = [pres, "neuroid"] + (["time_bin"] if "time_bin" in da.dims else []) + ([rep_dim] if rep_dim else [])
    x = da.transpose(*dims).values
    if "time_bin" not in da.dims:
        x = x[:, :, None]
    if rep_dim is None:
        x = x[..., None]
    ids = [str(v) for v in da["stimulus_id"].values]
    order = list(dict.fromkeys(ids))
    rows = {s: [p for p in range(len(ids)) if ids[p] == s] for s in order}
    if "repetition" in da.coords and da["repetition"].dims == (pres,):
        rep = da["repetition"].values
        rows = {s: sorted(r, key=lambda p: rep[p]) for s, r in rows.items()}
    per = max(len(r) for r in rows.values())
    rd = x.shape[3]
    S, N, T = len(order), x.shape[1], x.shape[2]
    a = np.full((S, N, T, per * rd), np.nan)
    for s, sid in enumerate(order):
        for k, p in enumerate(rows[sid]):
            a[s, :, :, k * rd:(k + 1) * rd] = x[p]
    smeta = {}
    for c in da.coords:
        if da[c].dims == (pres,) and c != "stimulus_id":
            vals = [str(v) for v in da[c].values]
            if all(len({vals[p] for p in rows[s]}) == 1 for s in order):
                smeta[c] = [vals[rows[s][0]] for s in order]
    nmeta = {c: [str(v) for v in da[c].values] for c in da.coords if da[c].dims == ("neuroid",) and c != "neuroid_id"}
    bins = [str(i) for i in range(T)]
    if "time_bin_start" in da.coords:
        bins = ["%d-%d" % (s, e) for s, e in zip(da["time_bin_start"].values, da["time_bin_end"].values)]
    return {"stimuli": order, "neuroids": [str(v) for v in da["neuroid_id"].values], "bins": bins,
            "reps": per * rd, "data": [float(v).hex() for v in a.ravel()], "smeta": smeta, "nmeta": nmeta}

for eng in engines:
    ext = ".h5" if eng == "h5netcdf" else ".nc"
    save("bs_" + eng + ext, brainscore(("presentation", "neuroid", "time_bin")), eng)
save("bs_order.nc", brainscore(("neuroid", "time_bin", "presentation")), "netcdf4")
packed = brainscore(("presentation", "neuroid", "time_bin"))
save("bs_packed.nc", packed, "netcdf4", {"data": {"dtype": "int16", "scale_factor": 0.01, "add_offset": 0.5, "_FillValue": -9999}})
save("bs_packed3.nc", packed, "scipy", {"data": {"dtype": "int16", "scale_factor": 0.01, "_FillValue": -9999}})
# stimulus x neuroid x repetition, NaN-padded repetitions
r = rng.standard_normal((4, 3, 5))
r[1, :, 3:] = np.nan
r[2, :, 4] = np.nan
rep = xr.DataArray(r, dims=("stimulus", "neuroid", "repetition"), coords={
    "stimulus_id": ("stimulus", ["im%d" % i for i in (10, 3, 7, 1)]),
    "category": ("stimulus", ["a", "b", "a", "c"]),
    "neuroid_id": ("neuroid", ["e1", "e2", "e3"])}, name="responses")
save("reps.nc", rep, "netcdf4")
json.dump(cases, open(os.path.join(out, "expected.json"), "w"))
`

// TestReadNetCDFBrainScore writes Brain-Score-like assemblies with xarray (NetCDF-4 through
// netCDF-C and h5netcdf, classic NetCDF through scipy; dimensions in two orders; packed int16
// with scale_factor and _FillValue; a separate NaN-padded repetition dimension) and checks
// that ReadNetCDF (through ReadFile's dispatch) gives the stimuli, repetitions, metadata and
// every value that xarray's own decoding gives.
func TestReadNetCDFBrainScore(t *testing.T) {
	const python = "/usr/bin/python3"
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import xarray, netCDF4, scipy, numpy").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import xarray, netCDF4, scipy: %v\n%s", python, err, out)
		}
		t.Skipf("%s cannot import xarray, netCDF4, scipy: %v", python, err)
	}
	dir := t.TempDir()
	if out, err := exec.CommandContext(ctx, python, "-c", writeAssemblies, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]struct {
		Stimuli  []string            `json:"stimuli"`
		Neuroids []string            `json:"neuroids"`
		Bins     []string            `json:"bins"`
		Reps     int                 `json:"reps"`
		Data     []string            `json:"data"`
		SMeta    map[string][]string `json:"smeta"`
		NMeta    map[string][]string `json:"nmeta"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 6 {
		t.Fatalf("python wrote %d cases", len(cases))
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := ReadFile(filepath.Join(dir, name), "", false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Stimuli, want.Stimuli) || !slices.Equal(a.Neuroids, want.Neuroids) || !slices.Equal(a.TimeBins, want.Bins) || a.Reps != want.Reps {
				t.Fatalf("stimuli %v neuroids %v bins %v reps %d; xarray: %v %v %v %d",
					a.Stimuli, a.Neuroids, a.TimeBins, a.Reps, want.Stimuli, want.Neuroids, want.Bins, want.Reps)
			}
			if len(a.Data) != len(want.Data) {
				t.Fatalf("%d values, xarray %d", len(a.Data), len(want.Data))
			}
			nan := 0
			for i, h := range want.Data {
				w, err := strconv.ParseFloat(h, 64)
				if err != nil {
					t.Fatal(err)
				}
				g := a.Data[i]
				if math.IsNaN(w) {
					nan++
				}
				if !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
					t.Fatalf("value %d: %v, xarray %v", i, g, w)
				}
			}
			if nan == 0 {
				t.Error("expected NaN padding or NaN values in every case")
			}
			if len(a.StimulusMeta) != len(want.SMeta) || len(a.NeuroidMeta) != len(want.NMeta) {
				t.Errorf("metadata: stimulus %v neuroid %v; xarray %v %v", keysOf(a.StimulusMeta), keysOf(a.NeuroidMeta), keysOf(want.SMeta), keysOf(want.NMeta))
			}
			for k, v := range want.SMeta {
				if !slices.Equal(a.StimulusMeta[k], v) {
					t.Errorf("stimulus metadata %s: %v, xarray %v", k, a.StimulusMeta[k], v)
				}
			}
			for k, v := range want.NMeta {
				if !slices.Equal(a.NeuroidMeta[k], v) {
					t.Errorf("neuroid metadata %s: %v, xarray %v", k, a.NeuroidMeta[k], v)
				}
			}
		})
	}
	// errors name the file and what was expected
	if _, err := ReadNetCDF(filepath.Join(dir, "reps.nc"), NetCDFOptions{Variable: "nope"}); err == nil || !strings.Contains(err.Error(), "reps.nc") {
		t.Errorf("missing variable: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "reps.nc"), "", true); err == nil {
		t.Error("transpose accepted for a NetCDF file")
	}
}

func keysOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestReadNetCDFShortCoordinate: netCDF-C lets a variable along an unlimited dimension be
// shorter than the dimension; a coordinate with fewer values than the data must be an error
// naming it, not an index out of range. An HDF5 file without dimension scales is an error
// saying so.
func TestReadNetCDFShortCoordinate(t *testing.T) {
	const python = "/usr/bin/python3"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import netCDF4, h5py, numpy").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import netCDF4, h5py: %v\n%s", python, err, out)
		}
		t.Skipf("%s cannot import netCDF4, h5py: %v", python, err)
	}
	path := filepath.Join(t.TempDir(), "short.nc")
	plain := filepath.Join(filepath.Dir(path), "plain.h5")
	script := `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], "w")
ds.createDimension("presentation", None)
ds.createDimension("neuroid", 2)
d = ds.createVariable("data", "f8", ("presentation", "neuroid"))
d[0:6, :] = np.arange(12.0).reshape(6, 2)
s = ds.createVariable("stimulus_id", str, ("presentation",))
s[0:4] = np.array(["a", "b", "c", "d"], dtype=object)
ds.close()
import h5py
with h5py.File(sys.argv[2], "w") as f:
    f["data"] = np.zeros((4, 3))
`
	if out, err := exec.CommandContext(ctx, python, "-c", script, path, plain).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	_, err := ReadNetCDF(path, NetCDFOptions{})
	if err == nil || !strings.Contains(err.Error(), `coordinate "stimulus_id" has 4 values`) {
		t.Fatalf("error %v, want one about the short stimulus_id", err)
	}
	// an HDF5 file without dimension scales: the error says what is missing
	_, err = ReadFile(plain, "", false)
	if err == nil || !strings.Contains(err.Error(), "plain.h5") || !strings.Contains(err.Error(), "names no dimensions") {
		t.Fatalf("plain HDF5: error %v", err)
	}
}

// TestNetCDFMatchesLongCSV: the same recording (unequal repetitions, a NaN) saved by xarray as
// NetCDF and written as long-form CSV reads into the same assembly.
func TestNetCDFMatchesLongCSV(t *testing.T) {
	const python = "/usr/bin/python3"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import xarray, netCDF4, numpy").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import xarray, netCDF4: %v\n%s", python, err, out)
		}
		t.Skipf("%s cannot import xarray, netCDF4: %v", python, err)
	}
	dir := t.TempDir()
	script := `
import csv, os, sys, numpy as np, xarray as xr
out = sys.argv[1]
rng = np.random.default_rng(9)
ids = ["s1", "s2", "s3", "s4", "s1", "s2", "s4", "s1"]
reps = [0, 0, 0, 0, 1, 1, 1, 2]
x = rng.standard_normal((8, 3, 2))
x[5, 1, 0] = np.nan
obj = {"s1": "car", "s2": "dog", "s3": "car", "s4": "face"}
da = xr.DataArray(x, dims=("presentation", "neuroid", "time_bin"), coords={
    "stimulus_id": ("presentation", ids), "repetition": ("presentation", reps),
    "object_name": ("presentation", [obj[i] for i in ids]),
    "neuroid_id": ("neuroid", ["a", "b", "c"]), "region": ("neuroid", ["V4", "IT", "IT"]),
    "time_bin_start": ("time_bin", [70, 170]), "time_bin_end": ("time_bin", [170, 270])}, name="data")
da.to_netcdf(os.path.join(out, "pair.nc"))
with open(os.path.join(out, "pair.csv"), "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["stimulus_id", "neuroid_id", "time_bin", "repetition", "value", "region", "stimulus.object_name"])
    for p in range(8):
        for n in range(3):
            for t, tb in enumerate(["70-170", "170-270"]):
                w.writerow([ids[p], "abc"[n], tb, reps[p], repr(float(x[p, n, t])), ["V4", "IT", "IT"][n], obj[ids[p]]])
`
	if out, err := exec.CommandContext(ctx, python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	nc, err := ReadFile(filepath.Join(dir, "pair.nc"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := ReadFile(filepath.Join(dir, "pair.csv"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nc.Stimuli, cv.Stimuli) || !slices.Equal(nc.Neuroids, cv.Neuroids) || !slices.Equal(nc.TimeBins, cv.TimeBins) || nc.Reps != cv.Reps {
		t.Fatalf("NetCDF %v %v %v %d, CSV %v %v %v %d", nc.Stimuli, nc.Neuroids, nc.TimeBins, nc.Reps, cv.Stimuli, cv.Neuroids, cv.TimeBins, cv.Reps)
	}
	nan := 0
	for i := range nc.Data {
		g, w := nc.Data[i], cv.Data[i]
		if math.IsNaN(g) {
			nan++
		}
		if !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
			t.Fatalf("value %d: NetCDF %v, CSV %v", i, g, w)
		}
	}
	// 4 stimuli x 3 repetitions x 6 cells, of which 8 presentations are present: 24 padded,
	// plus the one NaN recorded
	if nan != 25 {
		t.Errorf("%d NaN values, want 25", nan)
	}
	if !slices.Equal(nc.NeuroidMeta["region"], cv.NeuroidMeta["region"]) || !slices.Equal(nc.StimulusMeta["object_name"], cv.StimulusMeta["object_name"]) {
		t.Errorf("metadata: NetCDF %v %v, CSV %v %v", nc.NeuroidMeta, nc.StimulusMeta, cv.NeuroidMeta, cv.StimulusMeta)
	}
}
