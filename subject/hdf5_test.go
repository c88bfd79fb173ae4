package subject

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/formats/npy"
)

// Activations written by h5py (.h5: gzip-chunked datasets, string ids) and by xarray (.nc:
// NetCDF4 variables over a stimulus_id coordinate) are read back row for row, in the set's order.
func TestPrecomputedHDF5(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const py = "/usr/bin/python3"
	if err := exec.CommandContext(ctx, py, "-c", "import numpy, h5py, xarray, netCDF4").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy, h5py, xarray and netCDF4 is required under CI: %v", py, err)
		}
		t.Skipf("%s with numpy, h5py, xarray and netCDF4 not available: %v", py, err)
	}
	dir := t.TempDir()
	script := `
import numpy as np, h5py, xarray as xr
rng = np.random.default_rng(0)
conv = rng.normal(size=(4, 2, 3)).astype("float32")
fc = rng.normal(size=(4, 5)).astype("float32")
ids = np.array(["c", "a", "d", "b"])
np.save("conv.npy", conv); np.save("fc.npy", fc)
with h5py.File("feats.h5", "w") as f:
    f.create_dataset("conv", data=conv, compression="gzip", chunks=(2, 2, 3))
    f.create_dataset("fc", data=fc)
    f.create_dataset("stimulus_id", data=ids.astype("S"))
xr.Dataset({"conv": (("stimulus_id", "c", "x"), conv), "fc": (("stimulus_id", "unit"), fc)},
           coords={"stimulus_id": ids}).to_netcdf("feats.nc")
`
	cmd := exec.CommandContext(ctx, py, "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	conv, err := npy.ReadFloat32(filepath.Join(dir, "conv.npy"))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := npy.ReadFloat32(filepath.Join(dir, "fc.npy"))
	if err != nil {
		t.Fatal(err)
	}
	s := set(t, "toy", "a", "b", "c", "d")
	fileRow := map[string]int{"c": 0, "a": 1, "d": 2, "b": 3}
	for _, name := range []string{"feats.h5", "feats.nc"} {
		m, err := Open(filepath.Join(dir, name), "")
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := m.Layers()
		if got := LayerNames(ls); len(got) != 2 || got[0] != "conv" || got[1] != "fc" {
			t.Fatalf("%s: layers %v", name, got)
		}
		out, err := m.Activations(s, []string{"conv", "fc"}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for li, want := range []*npy.Array32{conv, fc} {
			cols := len(want.Data) / 4
			if out[li].Cols != cols {
				t.Fatalf("%s: layer %d has %d columns, want %d", name, li, out[li].Cols, cols)
			}
			for i, id := range s.IDs() {
				r := fileRow[id]
				for c := 0; c < cols; c++ {
					if out[li].Data[i*cols+c] != want.Data[r*cols+c] {
						t.Fatalf("%s: layer %d stimulus %s feature %d: %v, want %v", name, li, id, c, out[li].Data[i*cols+c], want.Data[r*cols+c])
					}
				}
			}
		}
	}
	// A dataset of strings is not a layer.
	if _, err := Open(filepath.Join(dir, "missing.h5"), ""); err == nil {
		t.Error("missing file opened")
	}
}
