package hierarchy

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// runPython runs script with /usr/bin/python3 (numpy and scipy), feeding in as JSON on stdin
// and decoding its JSON output; without them the test skips, or fails under CI.
func runPython(t *testing.T, script string, in, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, python, "-c", "import numpy, scipy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy and scipy is required under CI: %v", python, err)
		}
		t.Skipf("%s with numpy and scipy not available: %v", python, err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "check.py")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, p, filepath.Join(dir, "in.json"))
	cmd.Stderr = os.Stderr
	o, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, o)
	}
	if err := json.Unmarshal(o, out); err != nil {
		t.Fatalf("python output: %v\n%s", err, o)
	}
}

// Spearman's rho against scipy.stats.spearmanr, and the permutation p against an exact
// enumeration in numpy (up to 8 pairs, ties included) or 20,000 numpy permutations (12 pairs).
func TestSpearmanPermAgainstScipy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	type pair struct{ X, Y []float64 }
	var cases []pair
	// The experiment's shape: six trained networks and six controls tied at chance.
	perf := []float64{0.683, 0.708, 0.696, 0.662, 0.399, 0.684}
	cases = append(cases, pair{perf, []float64{0.31, 0.35, 0.30, 0.28, 0.20, 0.33}})
	x7 := []float64{0.683, 0.708, 0.001, 0.001, 0.001, 0.399, 0.684}
	y7 := []float64{0.3, 0.25, 0.1, 0.12, 0.05, 0.2, 0.22}
	cases = append(cases, pair{x7, y7})
	x8, y8 := make([]float64, 8), make([]float64, 8)
	for i := range x8 {
		x8[i], y8[i] = r.Float64(), r.Float64()
	}
	cases = append(cases, pair{x8, y8})
	x12, y12 := make([]float64, 12), make([]float64, 12)
	for i := range x12 {
		x12[i] = float64(i % 7)
		y12[i] = x12[i]*0.3 + r.NormFloat64()
	}
	cases = append(cases, pair{x12, y12})
	var want []struct {
		Rho, P float64
	}
	runPython(t, `
import sys, json, itertools
import numpy as np
from scipy import stats
out = []
def corr(rx, R):
    a = rx - rx.mean(); B = R - R.mean(axis=1, keepdims=True)
    return (B @ a) / np.sqrt((a @ a) * (B * B).sum(axis=1))
for c in json.load(open(sys.argv[1])):
    x, y = np.array(c["X"]), np.array(c["Y"])
    rho = stats.spearmanr(x, y).correlation
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    if len(x) <= 8:
        P = np.array(list(itertools.permutations(range(len(y)))))
        p = float(np.mean(np.abs(corr(rx, ry[P])) >= abs(rho) - 1e-12))
    else:
        rng = np.random.default_rng(0)
        P = np.array([rng.permutation(len(y)) for _ in range(20000)])
        p = (1 + float(np.sum(np.abs(corr(rx, ry[P])) >= abs(rho) - 1e-12))) / 20001
    out.append({"Rho": rho, "P": p})
print(json.dumps(out))
`, cases, &want)
	for i, c := range cases {
		rho, p, exact := SpearmanPerm(c.X, c.Y, 20000, 3)
		if math.Abs(rho-want[i].Rho) > 1e-12 {
			t.Errorf("case %d: rho %v, scipy %v", i, rho, want[i].Rho)
		}
		tol := 1e-12
		if len(c.X) > 8 {
			tol = 0.015 // two Monte Carlo estimates of 20,000 permutations each
			if exact {
				t.Errorf("case %d: %d pairs reported exact", i, len(c.X))
			}
		} else if !exact {
			t.Errorf("case %d: %d pairs not enumerated exactly", i, len(c.X))
		}
		if math.Abs(p-want[i].P) > tol {
			t.Errorf("case %d: p %v, python %v", i, p, want[i].P)
		}
	}
	if _, p, _ := SpearmanPerm([]float64{1, 2}, []float64{1, 2}, 10, 1); !math.IsNaN(p) {
		t.Errorf("2 pairs: p %v, want NaN", p)
	}
	if rho, _, _ := SpearmanPerm([]float64{1, 1, 1}, []float64{1, 2, 3}, 10, 1); !math.IsNaN(rho) {
		t.Errorf("constant x: rho %v, want NaN", rho)
	}
}

// The best-depth bootstrap against numpy: argmax per resample (first on ties), its depth, and
// the 2.5/97.5 percentiles.
func TestBestDepthSamplesAgainstNumpy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	L, B := 6, 400
	depths := []float64{0, 0.2, 0.4, 0.6, 0.8, 1}
	mean := []float64{0.1, 0.3, 0.5, 0.52, 0.45, 0.2}
	samples := make([][]float64, L)
	for i := range samples {
		samples[i] = make([]float64, B)
		for b := range samples[i] {
			samples[i][b] = mean[i] + 0.05*r.NormFloat64()
		}
	}
	got := BestDepthSamples(samples, depths)
	lo, hi := Interval(got)
	var want struct {
		D      []float64
		Lo, Hi float64
	}
	runPython(t, `
import sys, json
import numpy as np
c = json.load(open(sys.argv[1]))
s, d = np.array(c["S"]), np.array(c["D"])
bd = d[np.argmax(s, axis=0)]
print(json.dumps({"D": bd.tolist(), "Lo": np.percentile(bd, 2.5), "Hi": np.percentile(bd, 97.5)}))
`, map[string]any{"S": samples, "D": depths}, &want)
	if !slices.Equal(got, want.D) {
		t.Fatalf("depth draws differ from numpy's argmax")
	}
	if lo != want.Lo || hi != want.Hi {
		t.Errorf("interval [%v, %v], numpy [%v, %v]", lo, hi, want.Lo, want.Hi)
	}
	// Layers 2 and 3 are close, so the interval must span both of their depths.
	if !(lo <= 0.4 && hi >= 0.6) {
		t.Errorf("interval [%v, %v] does not cover the two near-equal layers", lo, hi)
	}
	// A NaN layer is skipped; an all-NaN resample gives NaN.
	nan := math.NaN()
	d := BestDepthSamples([][]float64{{nan, 1}, {nan, 0.5}}, []float64{0, 1})
	if !math.IsNaN(d[0]) || d[1] != 0 {
		t.Errorf("NaN handling: %v", d)
	}
}

// The ordering test on draws whose counts are known.
func TestOrderTest(t *testing.T) {
	n := 99
	d1, d2, d3 := make([]float64, n), make([]float64, n), make([]float64, n)
	for b := range n {
		d1[b], d2[b], d3[b] = 0.1, 0.5, 0.9
		if b < 9 { // V4 not deeper than V1 in 9 draws
			d2[b] = 0.1
		}
		if b >= 90 { // IT shallower than V4 in 9 other draws
			d3[b] = 0.3
		}
	}
	o := OrderTest(d1, d2, d3)
	if o.Samples != n || math.Abs(o.Prob-81.0/99) > 1e-12 || math.Abs(o.P12-10.0/100) > 1e-12 || math.Abs(o.P23-10.0/100) > 1e-12 || o.P != o.P12 {
		t.Errorf("ordering %+v, want prob 81/99, p12 = p23 = p = 0.1", o)
	}
	// Reversed: no draw is ordered and p is 1.
	o = OrderTest(d3, d2, d1)
	if o.Prob != 0 || o.P != 1 {
		t.Errorf("reversed: %+v", o)
	}
	// Perfectly ordered: the smallest p the draws allow.
	o = OrderTest(fill(n, 0), fill(n, 0.5), fill(n, 1))
	if o.Prob != 1 || o.P != 1.0/100 {
		t.Errorf("ordered: %+v", o)
	}
	if o := OrderTest(nil, nil, nil); !math.IsNaN(o.P) {
		t.Errorf("no draws: p %v", o.P)
	}
}

func fill(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func TestThin(t *testing.T) {
	ls := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	if got := Thin(ls, 4); !slices.Equal(got, []string{"a", "d", "g", "j"}) {
		t.Errorf("Thin(10, 4) = %v", got)
	}
	if got := Thin(ls, 0); len(got) != 10 {
		t.Errorf("Thin(10, 0) = %v", got)
	}
	if got := Thin(ls[:3], 5); len(got) != 3 {
		t.Errorf("Thin(3, 5) = %v", got)
	}
}
