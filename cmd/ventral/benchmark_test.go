package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
)

// ventral benchmark new writes a spec for a zip of images and a NaN-padded neuroid x stimulus x
// repetition array that ventral benchmark check accepts, with the counts in its report.
func TestBenchmarkNewAndCheck(t *testing.T) {
	dir := t.TempDir()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for i := 0; i < 12; i++ {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for k := range img.Pix {
			img.Pix[k] = uint8(20*i + 3*k)
		}
		w, _ := zw.Create(fmt.Sprintf("s%02d.png", i))
		png.Encode(w, img)
	}
	zw.Close()
	os.WriteFile(filepath.Join(dir, "stim.zip"), zbuf.Bytes(), 0o644)
	a := &npy.Array{Shape: []int{3, 12, 3}, Data: make([]float64, 3*12*3)}
	for n := 0; n < 3; n++ {
		for s := 0; s < 12; s++ {
			for r := 0; r < 3; r++ {
				v := float64((n+1)*s) + 0.1*float64(r*(n+s)%3)
				if r == 2 && s%2 == 0 {
					v = math.NaN()
				}
				a.Data[(n*12+s)*3+r] = v
			}
		}
	}
	npy.Write(filepath.Join(dir, "resp.npy"), a)
	out := filepath.Join(dir, "bench.yaml")
	log := execute(t, "benchmark", "new", "--stimuli", filepath.Join(dir, "stim.zip"), "--data", filepath.Join(dir, "resp.npy"), "--out", out, "--region", "V4")
	if !strings.Contains(log, "wrote "+out) {
		t.Fatalf("new: %s", log)
	}
	y, _ := os.ReadFile(out)
	if !strings.Contains(string(y), "dims:\n    - neuroid\n    - stimulus\n    - repetition") || !strings.Contains(string(y), "path: stim.zip") {
		t.Fatalf("spec:\n%s", y)
	}
	rep := execute(t, "benchmark", "check", out)
	for _, want := range []string{"stimuli: 12 from stim.zip", "12 stimuli x 3 neuroids x 1 time bins x 3 repetitions", "min 2, median 3, max 3; 18 NaN", "12 of 12 match", "ok: the benchmark can be scored"} {
		if !strings.Contains(rep, want) {
			t.Fatalf("check report lacks %q:\n%s", want, rep)
		}
	}
}
