package benchmarks

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
)

// userBench is a benchmark made of files only: nImg PNG images in a zip (img00.png ...), and
// responses of nNeu neuroids with 2 to 4 repetitions per stimulus, NaN-padded, as a
// neuroid x stimulus x repetition .npy and as long CSV (stimulus, neuroid, repetition, value;
// missing repetitions have no row). Each neuroid responds to a weighted sum of the image's
// mean red, green and blue and its left-right contrast, plus noise per repetition.
type userBench struct {
	dir             string
	nImg, nNeu, nRp int
}

func writeUserBench(t *testing.T, nImg, nNeu int) *userBench {
	t.Helper()
	u := &userBench{dir: t.TempDir(), nImg: nImg, nNeu: nNeu, nRp: 4}
	rng := rand.New(rand.NewPCG(5, 6))
	feat := make([][4]float64, nImg)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for i := 0; i < nImg; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 24, 24))
		base := [3]float64{rng.Float64(), rng.Float64(), rng.Float64()}
		contrast := rng.Float64() - 0.5
		for y := 0; y < 24; y++ {
			for x := 0; x < 24; x++ {
				c := [3]float64{}
				for k := range c {
					c[k] = math.Min(1, math.Max(0, base[k]+contrast*(float64(x)/23-0.5)+0.05*rng.NormFloat64()))
				}
				img.Set(x, y, color.RGBA{uint8(255 * c[0]), uint8(255 * c[1]), uint8(255 * c[2]), 255})
			}
		}
		feat[i] = [4]float64{base[0], base[1], base[2], contrast}
		w, _ := zw.Create(fmt.Sprintf("img%02d.png", i))
		if err := png.Encode(w, img); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.dir, "images.zip"), zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	arr := &npy.Array{Shape: []int{nNeu, nImg, u.nRp}, Data: make([]float64, nNeu*nImg*u.nRp)}
	for i := range arr.Data {
		arr.Data[i] = math.NaN()
	}
	reps := make([]int, nImg)
	for s := range reps {
		reps[s] = 2 + rng.IntN(3) // 2..4 present
	}
	var csv strings.Builder
	csv.WriteString("stimulus,neuroid,repetition,value\n")
	for n := 0; n < nNeu; n++ {
		w := [4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), 2 * rng.NormFloat64()}
		for s := 0; s < nImg; s++ {
			sig := w[0]*feat[s][0] + w[1]*feat[s][1] + w[2]*feat[s][2] + w[3]*feat[s][3]
			for r := 0; r < reps[s]; r++ {
				v := sig + 0.3*rng.NormFloat64()
				arr.Data[(n*nImg+s)*u.nRp+r] = v
				fmt.Fprintf(&csv, "img%02d.png,%d,%d,%v\n", s, n, r, v)
			}
		}
	}
	if err := npy.Write(filepath.Join(u.dir, "resp.npy"), arr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.dir, "resp.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

// spec writes a spec file over the benchmark's files with the given data block and loads it.
func (u *userBench) spec(t *testing.T, name, data string) *Spec {
	t.Helper()
	body := "name: " + name + "\nversion: 1\ncitation: synthetic\nregion: IT\n" +
		"stimuli: {path: images.zip, degrees: 4}\n" + data +
		"metric: {type: pls, folds: 2, components: 4, bootstrap: 40}\nceiling: {type: split-half}\n"
	p := filepath.Join(u.dir, name+".yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// zooModel builds a zoo model small enough to run quickly: at a small input size where the
// model takes one, HMAX with prototypes sampled from a few blank-free images.
func zooModel(t *testing.T, name string) *nn.Graph {
	t.Helper()
	var g *nn.Graph
	var err error
	for _, size := range []int{32, 64, 96, 128, 0} { // the smallest input the model builds at
		if g, err = models.Build(name, models.Options{InputSize: size}); err == nil {
			if err = g.Build(3); err == nil {
				break
			}
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if name == "hmax" {
		rng := rand.New(rand.NewPCG(1, 2))
		imgs := tensor.New(append([]int{2}, g.InputShape...)...)
		for i := range imgs.Data {
			imgs.Data[i] = rng.Float32()
		}
		if err := models.HMAXPrototypes(g, imgs, 4, 1); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// writeNetCDF saves the responses as a Brain-Score-style assembly with xarray (presentation x
// neuroid x time_bin, one row per presentation that took place, with stimulus_id and
// repetition coordinates; neuroid_id; time_bin_start/end). It reports false, skipping that
// part, when xarray and netCDF4 are not installed (under CI it fails instead).
func (u *userBench) writeNetCDF(t *testing.T) bool {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy, xarray, netCDF4").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy, xarray and netCDF4 is needed: %v", py, err)
		}
		t.Logf("NetCDF part skipped: %s with numpy, xarray and netCDF4 not available: %v", py, err)
		return false
	}
	script := `
import sys, numpy as np, xarray as xr
d = sys.argv[1]
x = np.load(d + '/resp.npy')                      # neuroid x stimulus x repetition, NaN-padded
N, S, R = x.shape
rows, stim, rep = [], [], []
for r in range(R):                                # presentations interleaved across repetitions
    for s in range(S):
        if not np.isnan(x[0, s, r]):
            rows.append(x[:, s, r]); stim.append('img%02d.png' % s); rep.append(r)
data = np.array(rows)[:, :, None]                 # presentation x neuroid x time_bin
a = xr.DataArray(data, dims=['presentation', 'neuroid', 'time_bin'],
    coords={'stimulus_id': ('presentation', stim), 'repetition': ('presentation', rep),
            'neuroid_id': ('neuroid', [str(n) for n in range(N)]), 'region': ('neuroid', ['IT'] * N),
            'time_bin_start': ('time_bin', [70]), 'time_bin_end': ('time_bin', [170])})
a.to_netcdf(d + '/resp.nc', engine='netcdf4')
`
	if out, err := exec.Command(py, "-c", script, u.dir).CombinedOutput(); err != nil {
		t.Fatalf("xarray: %v\n%s", err, out)
	}
	return true
}

// The acceptance test of a benchmark defined by YAML alone: a zip of images and a NaN-padded
// neuroid x stimulus x repetition .npy score every zoo model (default layers, small input
// sizes), with a split-half ceiling from the unequal repetitions; the same responses as long
// CSV and as a Brain-Score NetCDF assembly written by xarray give identical results.
func TestUserBenchmarkFromFiles(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	sNpy := u.spec(t, "user-npy", "data: {kind: assembly, path: resp.npy, dims: [neuroid, stimulus, repetition], stimulus_ids: order}\n")
	sCSV := u.spec(t, "user-csv", "data: {kind: assembly, path: resp.csv}\n")
	var sNC *Spec
	if u.writeNetCDF(t) {
		sNC = u.spec(t, "user-nc", "data: {kind: assembly, path: resp.nc}\n")
	}
	start := time.Now()
	for _, name := range models.Names() {
		t0 := time.Now()
		g := zooModel(t, name)
		m := subject.FromGraph(g)
		opts := Options{Seed: 4}
		r, err := Score(m, sNpy, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Ceiling.Stimuli != u.nImg || r.Ceiling.Neuroids != u.nNeu || !(r.Ceiling.Value > 0.5) || len(r.Layers) == 0 {
			t.Fatalf("%s: ceiling %+v, %d layers", name, r.Ceiling, len(r.Layers))
		}
		for _, l := range r.Layers {
			if math.IsNaN(l.Score) {
				t.Errorf("%s layer %s: NaN score", name, l.Layer)
			}
		}
		if name == "cornet-z" {
			var tab bytes.Buffer
			r.WriteTable(&tab)
			js, _ := r.JSON()
			if !strings.Contains(tab.String(), "median over 5 neuroids; 16 stimuli with 2 or more repetitions") || !strings.Contains(string(js), `"stimuli": 16`) {
				t.Fatalf("the ceiling's stimuli and neuroids are not reported:\n%s", tab.String())
			}
		}
		if name == "cornet-z" {
			rc, err := Score(m, sCSV, opts)
			if err != nil {
				t.Fatalf("%s on CSV: %v", name, err)
			}
			sameScores(t, name, r, rc)
			if sNC != nil {
				rn, err := Score(m, sNC, opts)
				if err != nil {
					t.Fatalf("%s on NetCDF: %v", name, err)
				}
				sameScores(t, name+" (NetCDF)", r, rn)
			}
		}
		t.Logf("%-20s %2d layers, best %-10s %.3f (ceiling %.3f) in %s", name, len(r.Layers), r.BestLayer, r.HeldOut, r.Ceiling.Value, time.Since(t0).Round(time.Millisecond))
	}
	t.Logf("all %d zoo models in %s", len(models.Names()), time.Since(start).Round(time.Millisecond))
}

// sameScores fails unless two results over the same data in different files agree exactly.
func sameScores(t *testing.T, name string, a, b *Result) {
	t.Helper()
	if a.Ceiling.Value != b.Ceiling.Value || a.HeldOut != b.HeldOut || a.BestLayer != b.BestLayer || len(a.Layers) != len(b.Layers) ||
		strings.Join(a.Neuroids, ",") != strings.Join(b.Neuroids, ",") {
		t.Fatalf("%s: results differ: ceiling %v vs %v, held out %v vs %v", name, a.Ceiling.Value, b.Ceiling.Value, a.HeldOut, b.HeldOut)
	}
	for i := range a.Layers {
		if a.Layers[i].Score != b.Layers[i].Score || a.Layers[i].Selection != b.Layers[i].Selection || a.Layers[i].CILow != b.Layers[i].CILow {
			t.Fatalf("%s layer %s: %v vs %v", name, a.Layers[i].Layer, a.Layers[i].Score, b.Layers[i].Score)
		}
	}
}
