package metrics

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/metrics/ceiling"
	"github.com/ventral-lab/ventral/metrics/regression"
	"github.com/ventral-lab/ventral/metrics/rsa"
)

const python = "/usr/bin/python3"

func toRows(m *mat.Dense) [][]float64 {
	r, _ := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = append([]float64(nil), m.RawRowView(i)...)
	}
	return out
}

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	d := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			d.Set(i, j, rng.NormFloat64())
		}
	}
	return d
}

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, python has %d", what, len(got), len(want))
	}
	var worst float64
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
	}
	if !(worst <= tol) {
		t.Errorf("%s: max difference from python %g > %g", what, worst, tol)
	} else {
		t.Logf("%s: max difference %.2g", what, worst)
	}
}

// TestCrosscheckPython compares RDMs, RDM comparisons, PLS, ridge and split-half reliability with
// scipy and scikit-learn (scripts/crosscheck/crosscheck.py). It skips when /usr/bin/python3 cannot
// import numpy, scipy and sklearn, and fails then under CI (needPython).
func TestCrosscheckPython(t *testing.T) {
	needPython(t, python)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rng := rand.New(rand.NewPCG(2024, 1))
	patterns := randDense(rng, 12, 9)
	// RDM vectors with ties (rounded) for the rank-based comparisons
	m := 15 * 14 / 2
	a := make([]float64, m)
	b := make([]float64, m)
	for k := range a {
		a[k] = math.Round(rng.Float64()*10) / 10
		b[k] = math.Round((a[k]+0.3*rng.NormFloat64())*10) / 10
	}
	plsX := randDense(rng, 40, 15)
	plsW := randDense(rng, 15, 3)
	plsY := mat.NewDense(40, 3, nil)
	plsY.Mul(plsX, plsW)
	plsY.Add(plsY, randDense(rng, 40, 3))
	plsXt := randDense(rng, 10, 15)
	ridgeX := randDense(rng, 30, 50) // features > stimuli: kernel path
	ridgeY := randDense(rng, 30, 2)
	ridgeXt := randDense(rng, 8, 50)
	const alpha = 3.0
	S, N, R := 20, 4, 6
	resp := make([]float64, S*N*R)
	data3 := make([][][]float64, S)
	for s := range data3 {
		data3[s] = make([][]float64, N)
		for n := range data3[s] {
			sig := rng.NormFloat64()
			data3[s][n] = make([]float64, R)
			for r := range data3[s][n] {
				v := sig + rng.NormFloat64()
				data3[s][n][r] = v
				resp[(s*N+n)*R+r] = v
			}
		}
	}
	halfA, halfB := []int{0, 2, 5}, []int{1, 3, 4}
	input := map[string]any{
		"patterns": toRows(patterns),
		"rdm_a":    a, "rdm_b": b,
		"pls":       map[string]any{"X": toRows(plsX), "Y": toRows(plsY), "Xtest": toRows(plsXt), "n_components": 4},
		"ridge":     map[string]any{"X": toRows(ridgeX), "Y": toRows(ridgeY), "Xtest": toRows(ridgeXt), "alpha": alpha},
		"splithalf": map[string]any{"data": data3, "a": halfA, "b": halfB},
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "input.json")
	buf, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, filepath.Join("..", "scripts", "crosscheck", "crosscheck.py"), in)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("crosscheck.py: %v", err)
	}
	var py struct {
		Corr        []float64   `json:"rdm_correlation"`
		Cos         []float64   `json:"rdm_cosine"`
		Euc         []float64   `json:"rdm_euclidean"`
		Sq          []float64   `json:"rdm_sqeuclidean"`
		Spearman    float64     `json:"spearman"`
		Pearson     float64     `json:"pearson"`
		TauA        float64     `json:"tau_a"`
		Cosine      float64     `json:"cosine"`
		PLSPred     [][]float64 `json:"pls_pred"`
		PLSPredDef  [][]float64 `json:"pls_pred_default_tol"`
		RidgePred   [][]float64 `json:"ridge_pred"`
		RidgeCoef   [][]float64 `json:"ridge_coef"`
		SplitHalfR  []float64   `json:"splithalf_r"`
		SplitHalfSB []float64   `json:"splithalf_sb"`
	}
	if err := json.Unmarshal(outb, &py); err != nil {
		t.Fatalf("crosscheck.py output: %v", err)
	}
	for _, c := range []struct {
		d    rsa.Distance
		want []float64
	}{{rsa.Correlation, py.Corr}, {rsa.Cosine, py.Cos}, {rsa.Euclidean, py.Euc}, {rsa.SquaredEuclidean, py.Sq}} {
		r, err := rsa.FromPatterns(patterns, c.d, nil)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "RDM "+string(c.d), r.Vector(), c.want, 1e-6)
	}
	ra, _ := rsa.NewRDMFromVector(a, nil)
	rb, _ := rsa.NewRDMFromVector(b, nil)
	for _, c := range []struct {
		m    rsa.Method
		want float64
	}{{rsa.Spearman, py.Spearman}, {rsa.Pearson, py.Pearson}, {rsa.KendallTauA, py.TauA}, {rsa.CosineSim, py.Cosine}} {
		got, err := rsa.Compare(ra, rb, c.m)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "compare "+string(c.m), []float64{got}, []float64{c.want}, 1e-6)
	}
	pm, err := regression.FitPLS(plsX, plsY, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	pp, _ := pm.Predict(plsXt)
	near(t, "PLS predictions (sklearn tol=1e-15)", flat(pp), flatRows(py.PLSPred), 1e-5)
	var worst float64
	for i, v := range flatRows(py.PLSPredDef) {
		worst = math.Max(worst, math.Abs(v-flat(pp)[i]))
	}
	t.Logf("PLS predictions vs sklearn's default tol=1e-6: max difference %.2g (NIPALS not converged)", worst)
	rm, err := regression.FitRidge(ridgeX, ridgeY, alpha)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := rm.Predict(ridgeXt)
	near(t, "ridge predictions", flat(rp), flatRows(py.RidgePred), 1e-3)
	near(t, "ridge coef", flat(rm.Coef), flatRows(py.RidgeCoef), 1e-3)
	x, err := ceiling.NewResponses(S, N, R, resp)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := ceiling.SplitHalfFixed(x, halfA, halfB)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "split-half r", rel.HalfR, py.SplitHalfR, 1e-6)
	near(t, "split-half Spearman-Brown", rel.PerNeuroid, py.SplitHalfSB, 1e-6)
}

func flat(m *mat.Dense) []float64 {
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, m.RawRowView(i)...)
	}
	return out
}

func flatRows(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// needPython skips the test when py cannot import numpy, scipy and sklearn, or fails it when
// the environment variable CI is set (scripts/test promises the cross-checks run there).
func needPython(t testing.TB, py string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, py, "-c", "import numpy, scipy, sklearn").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy, scipy and sklearn is needed under CI: %v", py, err)
		}
		t.Skipf("%s with numpy, scipy and sklearn not available: %v", py, err)
	}
}

// recorder is a testing.TB that records whether a helper skipped or failed.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }

// A missing python fails the cross-check under CI and skips it elsewhere.
func TestNeedPythonFailsUnderCI(t *testing.T) {
	run := func(ci string) *recorder {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() { defer close(done); needPython(r, filepath.Join(t.TempDir(), "no-python")) }()
		<-done
		return r
	}
	if r := run("1"); !r.failed || r.skipped {
		t.Errorf("under CI a missing python must fail the test: %+v", *r)
	}
	if r := run(""); r.failed || !r.skipped {
		t.Errorf("outside CI a missing python skips: %+v", *r)
	}
}
