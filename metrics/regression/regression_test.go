package regression

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	d := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			d.Set(i, j, rng.NormFloat64())
		}
	}
	return d
}

func linearData(seed uint64, n, p, q int, noise float64) (X, Y, B *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 7))
	X = randDense(rng, n, p)
	for i := 0; i < n; i++ { // non-zero means and unequal scales
		for j := 0; j < p; j++ {
			X.Set(i, j, X.At(i, j)*float64(j+1)+float64(j))
		}
	}
	B = randDense(rng, p, q)
	Y = mat.NewDense(n, q, nil)
	Y.Mul(X, B)
	for i := 0; i < n; i++ {
		for j := 0; j < q; j++ {
			Y.Set(i, j, Y.At(i, j)+3+noise*rng.NormFloat64())
		}
	}
	return
}

func maxAbs(a, b mat.Matrix) float64 {
	r, c := a.Dims()
	var m float64
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m = math.Max(m, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return m
}

func TestPLSPredictsLinearTargetExactly(t *testing.T) {
	for _, scale := range []bool{true, false} {
		X, Y, B := linearData(1, 40, 6, 3, 0)
		m, err := FitPLS(X, Y, 6, scale)
		if err != nil {
			t.Fatal(err)
		}
		pred, _ := m.Predict(X)
		if d := maxAbs(pred, Y); d > 1e-8 {
			t.Fatalf("scale=%v: max prediction error %g", scale, d)
		}
		if d := maxAbs(m.Coef, B); d > 1e-8 {
			t.Fatalf("scale=%v: coef error %g", scale, d)
		}
	}
	// one neuroid (PLS1)
	X, Y, _ := linearData(2, 30, 4, 1, 0)
	m, _ := FitPLS(X, Y, 4, true)
	pred, _ := m.Predict(X)
	if d := maxAbs(pred, Y); d > 1e-8 {
		t.Fatalf("PLS1: %g", d)
	}
}

// nipals is a direct PLS2 NIPALS (scikit-learn's algorithm, deflating X and Y), the reference for
// the kernel algorithm.
func nipals(X, Y *mat.Dense, comps int, scale bool) *mat.Dense {
	xs, _, xsd := standardise(X, scale)
	ys, _, ysd := standardise(Y, scale)
	n, p := xs.Dims()
	_, q := ys.Dims()
	W := mat.NewDense(p, comps, nil)
	P := mat.NewDense(p, comps, nil)
	Q := mat.NewDense(q, comps, nil)
	for a := 0; a < comps; a++ {
		u := mat.NewVecDense(n, mat.Col(nil, 0, ys))
		w := mat.NewVecDense(p, nil)
		tv := mat.NewVecDense(n, nil)
		c := mat.NewVecDense(q, nil)
		for it := 0; it < 5000; it++ {
			old := mat.VecDenseCopyOf(w)
			w.MulVec(xs.T(), u)
			w.ScaleVec(1/mat.Norm(w, 2), w)
			tv.MulVec(xs, w)
			c.MulVec(ys.T(), tv)
			c.ScaleVec(1/mat.Dot(tv, tv), c)
			u.MulVec(ys, c)
			u.ScaleVec(1/mat.Dot(c, c), u)
			old.SubVec(old, w)
			if mat.Norm(old, 2) < 1e-14 {
				break
			}
		}
		tt := mat.Dot(tv, tv)
		pl := mat.NewVecDense(p, nil)
		pl.MulVec(xs.T(), tv)
		pl.ScaleVec(1/tt, pl)
		ql := mat.NewVecDense(q, nil)
		ql.MulVec(ys.T(), tv)
		ql.ScaleVec(1/tt, ql)
		var d mat.Dense
		d.Outer(1, tv, pl)
		xs.Sub(xs, &d)
		d.Reset()
		d.Outer(1, tv, ql)
		ys.Sub(ys, &d)
		W.SetCol(a, w.RawVector().Data)
		P.SetCol(a, pl.RawVector().Data)
		Q.SetCol(a, ql.RawVector().Data)
	}
	var ptw, inv, R, coef mat.Dense
	ptw.Mul(P.T(), W)
	if err := inv.Inverse(&ptw); err != nil {
		panic(err)
	}
	R.Mul(W, &inv)
	coef.Mul(&R, Q.T())
	for i := 0; i < p; i++ {
		for j := 0; j < q; j++ {
			coef.Set(i, j, coef.At(i, j)*ysd[j]/xsd[i])
		}
	}
	return &coef
}

func TestPLSKernelEqualsNIPALS(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	// wide data (features > stimuli) with a few components, both scalings
	X := randDense(rng, 25, 60)
	Y := randDense(rng, 25, 4)
	for _, scale := range []bool{true, false} {
		m, err := FitPLS(X, Y, 5, scale)
		if err != nil {
			t.Fatal(err)
		}
		ref := nipals(X, Y, 5, scale)
		if d := maxAbs(m.Coef, ref); d > 1e-7 {
			t.Fatalf("scale=%v: kernel vs NIPALS coef differ by %g", scale, d)
		}
	}
}

func TestPLSErrors(t *testing.T) {
	X, Y, _ := linearData(4, 10, 3, 2, 0.1)
	if _, err := FitPLS(X, mat.NewDense(9, 2, nil), 2, true); err == nil || !strings.Contains(err.Error(), "X has 10 stimuli but Y has 9") {
		t.Fatalf("mismatch: %v", err)
	}
	X.Set(2, 1, math.NaN())
	if _, err := FitPLS(X, Y, 2, true); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("NaN: %v", err)
	}
	X.Set(2, 1, 0)
	if _, err := FitPLS(X, Y, 4, true); err == nil {
		t.Fatal("more components than features accepted")
	}
	// rank runs out: 2 informative directions only
	Xr := mat.NewDense(10, 3, nil)
	for i := 0; i < 10; i++ {
		Xr.Set(i, 0, float64(i))
		Xr.Set(i, 1, float64(i*i%7))
		Xr.Set(i, 2, float64(i)+float64(i*i%7))
	}
	m, err := FitPLS(Xr, Y, 3, false)
	if err != nil || m.Components != 2 {
		t.Fatalf("rank-2 X: %v components, %v", m, err)
	}
}

func TestRidgeAlphaZeroIsOLS(t *testing.T) {
	X, Y, _ := linearData(5, 50, 8, 3, 0.5)
	ols, err := FitOLS(X, Y)
	if err != nil {
		t.Fatal(err)
	}
	// normal equations on [1 X]
	n, p := X.Dims()
	A := mat.NewDense(n, p+1, nil)
	for i := 0; i < n; i++ {
		A.Set(i, 0, 1)
		for j := 0; j < p; j++ {
			A.Set(i, j+1, X.At(i, j))
		}
	}
	var sol mat.Dense
	if err := sol.Solve(A, Y); err != nil {
		t.Fatal(err)
	}
	if d := maxAbs(ols.Coef, sol.Slice(1, p+1, 0, 3)); d > 1e-8 {
		t.Fatalf("OLS vs QR: %g", d)
	}
	r, _ := FitRidge(X, Y, 1e-9)
	if d := maxAbs(r.Coef, ols.Coef); d > 1e-8 {
		t.Fatalf("ridge alpha->0 vs OLS: %g", d)
	}
	pr, _ := r.Predict(X)
	po, _ := ols.Predict(X)
	if d := maxAbs(pr, po); d > 1e-8 {
		t.Fatalf("predictions: %g", d)
	}
}

func TestRidgeKernelEqualsPrimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	X := randDense(rng, 20, 70) // kernel path
	Y := randDense(rng, 20, 3)
	alpha := 2.5
	r, err := FitRidge(X, Y, alpha)
	if err != nil {
		t.Fatal(err)
	}
	xc, _, _ := standardise(X, false)
	yc, _, _ := standardise(Y, false)
	var g, rhs, want mat.Dense
	g.Mul(xc.T(), xc)
	for i := 0; i < 70; i++ {
		g.Set(i, i, g.At(i, i)+alpha)
	}
	rhs.Mul(xc.T(), yc)
	if err := want.Solve(&g, &rhs); err != nil {
		t.Fatal(err)
	}
	if d := maxAbs(r.Coef, &want); d > 1e-9 {
		t.Fatalf("kernel ridge vs (XᵀX+αI)⁻¹XᵀY: %g", d)
	}
	if _, err := FitRidge(X, Y, -1); err == nil {
		t.Fatal("negative alpha accepted")
	}
}

func TestRidgeCVChoosesPenalty(t *testing.T) {
	X, Y, _ := linearData(7, 60, 10, 2, 0.01)
	m, err := FitRidgeCV(X, Y, nil, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Alpha > 1 {
		t.Fatalf("clean linear data chose alpha %v", m.Alpha)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	noise := randDense(rng, 60, 2)
	m, _ = FitRidgeCV(X, noise, nil, 5, 1)
	if m.Alpha < 100 {
		t.Fatalf("pure noise chose alpha %v", m.Alpha)
	}
}

func TestKFold(t *testing.T) {
	folds, err := KFold(23, 5, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, 23)
	for f, fo := range folds {
		want := 4
		if f < 3 {
			want = 5
		}
		if len(fo) != want {
			t.Fatalf("fold %d has %d stimuli, want %d", f, len(fo), want)
		}
		for _, i := range fo {
			seen[i]++
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("stimulus %d in %d folds", i, c)
		}
	}
	again, _ := KFold(23, 5, nil, 3)
	for f := range folds {
		for k := range folds[f] {
			if folds[f][k] != again[f][k] {
				t.Fatal("same seed, different folds")
			}
		}
	}
	// stratified: 3 labels with 12, 7 and 5 stimuli over 4 folds
	var labels []string
	for i := 0; i < 24; i++ {
		switch {
		case i%2 == 0 && i < 24:
			labels = append(labels, "face")
		case i%3 == 1:
			labels = append(labels, "body")
		default:
			labels = append(labels, "object")
		}
	}
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	folds, err = KFold(24, 4, labels, 9)
	if err != nil {
		t.Fatal(err)
	}
	seen = make([]int, 24)
	for f, fo := range folds {
		per := map[string]int{}
		for _, i := range fo {
			per[labels[i]]++
			seen[i]++
		}
		for l, c := range count {
			lo, hi := c/4, (c+3)/4
			if per[l] < lo || per[l] > hi {
				t.Fatalf("fold %d has %d of %q (total %d), want %d..%d", f, per[l], l, c, lo, hi)
			}
		}
		if len(fo) != 6 {
			t.Fatalf("fold %d has %d stimuli", f, len(fo))
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("stimulus %d in %d folds", i, c)
		}
	}
	if _, err := KFold(9, 10, nil, 1); err == nil || !strings.Contains(err.Error(), "9 stimuli are fewer than 10 folds") {
		t.Fatalf("too few stimuli: %v", err)
	}
	if _, err := KFold(20, 4, labels, 1); err == nil {
		t.Fatal("label count mismatch accepted")
	}
}

func TestCrossValidate(t *testing.T) {
	X, Y, _ := linearData(10, 80, 5, 4, 0.05)
	for c := 0; c < 80; c++ {
		Y.Set(c, 2, 1.5) // constant neuroid
	}
	for _, reg := range []Regressor{OLSRegressor{}, PLSRegressor{Components: 5, Scale: true}, RidgeRegressor{Alphas: []float64{1e-6, 1, 100}}} {
		res, err := CrossValidate(X, Y, reg, CVOptions{Folds: 8, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Excluded) != 1 || res.Excluded[0] != 2 || !math.IsNaN(res.PerNeuroid[2]) || len(res.Warnings) == 0 {
			t.Fatalf("%s: constant neuroid not excluded with a warning: %+v", reg.Name(), res.Excluded)
		}
		if res.Mean < 0.99 || len(res.FoldMedian) != 8 || !(res.SE >= 0) {
			t.Fatalf("%s: mean r %v over folds %v", reg.Name(), res.Mean, res.FoldMedian)
		}
		for j, r := range res.PerNeuroid {
			if j != 2 && r < 0.99 {
				t.Fatalf("%s: neuroid %d r %v", reg.Name(), j, r)
			}
		}
	}
	one, _ := CrossValidate(X, Y, OLSRegressor{}, CVOptions{Folds: 8, Seed: 2, Workers: 1})
	two, _ := CrossValidate(X, Y, OLSRegressor{}, CVOptions{Folds: 8, Seed: 2, Workers: 2})
	for f := range one.FoldMedian {
		if one.FoldMedian[f] != two.FoldMedian[f] {
			t.Fatal("result depends on the number of workers")
		}
	}
	if _, err := CrossValidate(X, mat.NewDense(79, 4, nil), OLSRegressor{}, CVOptions{}); err == nil {
		t.Fatal("stimulus mismatch accepted")
	}
	if _, err := CrossValidate(X.Slice(0, 5, 0, 5).(*mat.Dense), Y.Slice(0, 5, 0, 4).(*mat.Dense), OLSRegressor{}, CVOptions{}); err == nil || !strings.Contains(err.Error(), "fewer than 10 folds") {
		t.Fatalf("too few stimuli: %v", err)
	}
	Y.Set(3, 1, math.Inf(1))
	if _, err := CrossValidate(X, Y, OLSRegressor{}, CVOptions{}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("Inf accepted: %v", err)
	}
}

// BenchmarkPLSPeer runs the workload of shared/bench/sklearn_pls_peer.py (1,200 stimuli x
// 4,096 features -> 100 neuroids, 25 components, 10 folds) and reports its seconds, median r
// and peak Go heap; compare with the peer script on the same machine (also: ventral bench pls).
func BenchmarkPLSPeer(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := BenchPLS(1200, 4096, 100, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.MedianR, "median_r")
		b.ReportMetric(r.PeakMB, "peak_heap_MB")
	}
}

func BenchmarkPLSCV(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := BenchPLS(300, 1024, 50, 1); err != nil {
			b.Fatal(err)
		}
	}
}
