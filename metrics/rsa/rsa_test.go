package rsa

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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

func TestNewRDMErrors(t *testing.T) {
	if _, err := NewRDM(mat.NewDense(92, 91, nil), nil); err == nil || !strings.Contains(err.Error(), "RDM 92x91 is not square") {
		t.Fatalf("got %v", err)
	}
	m := mat.NewDense(8, 8, nil)
	m.Set(3, 7, 0.2)
	m.Set(7, 3, 0.3)
	if _, err := NewRDM(m, nil); err == nil || !strings.Contains(err.Error(), "not symmetric at (3,7): 0.2 vs 0.3") {
		t.Fatalf("got %v", err)
	}
	m.Set(7, 3, 0.2)
	m.Set(2, 2, 1)
	if _, err := NewRDM(m, nil); err == nil || !strings.Contains(err.Error(), "diagonal") {
		t.Fatalf("got %v", err)
	}
	m.Set(2, 2, 0)
	m.Set(1, 4, math.NaN())
	if _, err := NewRDM(m, nil); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Fatalf("got %v", err)
	}
	m.Set(1, 4, 0)
	r, err := NewRDM(m, nil)
	if err != nil || r.N() != 8 || r.At(7, 3) != 0.2 || len(r.Vector()) != 28 {
		t.Fatalf("valid RDM: %v", err)
	}
	if _, err := NewRDM(m, []string{"a"}); err == nil {
		t.Fatal("wrong label count accepted")
	}
	if _, err := NewRDMFromVector(make([]float64, 5), nil); err == nil {
		t.Fatal("condensed length 5 accepted")
	}
	if r2, err := NewRDMFromVector(r.Vector(), nil); err != nil || !mat.Equal(r2.Dense(), m) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestFromPatternsByHand(t *testing.T) {
	p := mat.NewDense(3, 2, []float64{0, 0, 3, 4, 0, 1})
	r, err := FromPatterns(p, Euclidean, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 1, math.Sqrt(18)}
	for k, w := range want {
		if math.Abs(r.vec[k]-w) > 1e-12 {
			t.Fatalf("euclidean %v want %v", r.vec, want)
		}
	}
	r, _ = FromPatterns(p, SquaredEuclidean, nil)
	if r.At(2, 1) != 18 {
		t.Fatalf("sqeuclidean %v", r.vec)
	}
	q := mat.NewDense(3, 3, []float64{1, 2, 3, 3, 2, 1, 2, 4, 6})
	r, _ = FromPatterns(q, Correlation, nil)
	if math.Abs(r.At(0, 1)-2) > 1e-12 || math.Abs(r.At(0, 2)) > 1e-12 {
		t.Fatalf("correlation %v", r.vec)
	}
	r, _ = FromPatterns(q, Cosine, nil)
	if math.Abs(r.At(0, 1)-(1-10.0/14)) > 1e-12 || math.Abs(r.At(0, 2)) > 1e-12 {
		t.Fatalf("cosine %v", r.vec)
	}
	if _, err := FromPatterns(mat.NewDense(2, 3, []float64{1, 1, 1, 1, 2, 3}), Correlation, nil); err == nil || !strings.Contains(err.Error(), "constant") {
		t.Fatalf("constant row: %v", err)
	}
	if _, err := FromPatterns(p, "manhattan", nil); err == nil {
		t.Fatal("unknown distance accepted")
	}
}

func TestFromPatternsVsLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randDense(rng, 30, 17)
	for _, d := range []Distance{Correlation, Cosine, Euclidean, SquaredEuclidean} {
		r, err := FromPatterns(x, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 30; i++ {
			for j := i + 1; j < 30; j++ {
				a, b := x.RawRowView(i), x.RawRowView(j)
				var want float64
				switch d {
				case Correlation:
					want = 1 - pearsonRef(a, b)
				case Cosine:
					want = 1 - dot(a, b)/math.Sqrt(dot(a, a)*dot(b, b))
				default:
					for k := range a {
						want += (a[k] - b[k]) * (a[k] - b[k])
					}
					if d == Euclidean {
						want = math.Sqrt(want)
					}
				}
				if math.Abs(r.At(i, j)-want) > 1e-10 {
					t.Fatalf("%s (%d,%d): %v want %v", d, i, j, r.At(i, j), want)
				}
			}
		}
	}
}

func dot(a, b []float64) (s float64) {
	for k := range a {
		s += a[k] * b[k]
	}
	return
}

func pearsonRef(a, b []float64) float64 {
	var ma, mb float64
	for k := range a {
		ma += a[k]
		mb += b[k]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for k := range a {
		sab += (a[k] - ma) * (b[k] - mb)
		saa += (a[k] - ma) * (a[k] - ma)
		sbb += (b[k] - mb) * (b[k] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func TestCrossnobisVsLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, p, K := 7, 5, 3
	runs := make([]*mat.Dense, K)
	for k := range runs {
		runs[k] = randDense(rng, n, p)
	}
	a := randDense(rng, p, p)
	var prec mat.Dense
	prec.Mul(a, a.T())
	for _, lam := range []*mat.Dense{nil, &prec} {
		r, err := Crossnobis(runs, lam, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				var want float64
				for k := 0; k < K; k++ {
					for l := 0; l < K; l++ {
						if k == l {
							continue
						}
						dk := make([]float64, p)
						dl := make([]float64, p)
						for f := 0; f < p; f++ {
							dk[f] = runs[k].At(i, f) - runs[k].At(j, f)
							dl[f] = runs[l].At(i, f) - runs[l].At(j, f)
						}
						if lam == nil {
							want += dot(dk, dl)
						} else {
							for f := 0; f < p; f++ {
								for g := 0; g < p; g++ {
									want += dk[f] * lam.At(f, g) * dl[g]
								}
							}
						}
					}
				}
				want /= float64(K*(K-1)) * float64(p)
				if math.Abs(r.At(i, j)-want) > 1e-10 {
					t.Fatalf("crossnobis (%d,%d) %v want %v", i, j, r.At(i, j), want)
				}
			}
		}
	}
	if _, err := Crossnobis(runs[:1], nil, nil); err == nil {
		t.Fatal("one partition accepted")
	}
	if _, err := Crossnobis([]*mat.Dense{runs[0], mat.NewDense(n, p+1, nil)}, nil, nil); err == nil {
		t.Fatal("mismatched partitions accepted")
	}
}

// tauAQuadratic is the O(n²) reference: count concordant and discordant pairs directly.
func tauAQuadratic(x, y []float64) float64 {
	var c, d float64
	n := len(x)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := (x[i] - x[j]) * (y[i] - y[j])
			if s > 0 {
				c++
			} else if s < 0 {
				d++
			}
		}
	}
	return (c - d) / (float64(n) * float64(n-1) / 2)
}

func TestTauA(t *testing.T) {
	if v := TauA([]float64{1, 2, 3}, []float64{1, 3, 2}); math.Abs(v-1.0/3) > 1e-15 {
		t.Fatalf("by hand: %v", v)
	}
	// ties: x = 1 1 2, y = 1 2 2: pairs (0,1) tied x, (0,2) concordant, (1,2) tied y -> 1/3
	if v := TauA([]float64{1, 1, 2}, []float64{1, 2, 2}); math.Abs(v-1.0/3) > 1e-15 {
		t.Fatalf("ties by hand: %v", v)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		n := 2 + rng.IntN(300)
		levels := 1 + rng.IntN(8)
		x := make([]float64, n)
		y := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(levels))
			if trial%2 == 0 {
				y[i] = float64(rng.IntN(levels)) + x[i]
			} else {
				y[i] = rng.NormFloat64()
			}
		}
		if a, b := TauA(x, y), tauAQuadratic(x, y); math.Abs(a-b) > 1e-12 {
			t.Fatalf("trial %d n %d: fast %v quadratic %v", trial, n, a, b)
		}
	}
}

func TestCompare(t *testing.T) {
	a, _ := NewRDMFromVector([]float64{1, 2, 3, 4, 5, 6}, nil)
	b, _ := NewRDMFromVector([]float64{2, 4, 6, 8, 10, 13}, nil)
	for _, m := range []Method{Spearman, KendallTauA} {
		if v, err := Compare(a, b, m); err != nil || math.Abs(v-1) > 1e-12 {
			t.Fatalf("%s: %v %v", m, v, err)
		}
	}
	if v, _ := Compare(a, a, Pearson); math.Abs(v-1) > 1e-12 {
		t.Fatalf("pearson self %v", v)
	}
	if v, _ := Compare(a, a, CosineSim); math.Abs(v-1) > 1e-12 {
		t.Fatalf("cosine self %v", v)
	}
	c, _ := NewRDMFromVector([]float64{1, 2, 3}, nil)
	if _, err := Compare(a, c, Spearman); err == nil {
		t.Fatal("size mismatch accepted")
	}
	if _, err := Compare(a, b, "kendall-b"); err == nil {
		t.Fatal("unknown method accepted")
	}
}

func noisyRDMs(seed uint64, n, subjects int, noise float64) (truth *RDM, subs []*RDM) {
	rng := rand.New(rand.NewPCG(seed, 99))
	m := n * (n - 1) / 2
	tv := make([]float64, m)
	for k := range tv {
		tv[k] = rng.Float64()
	}
	truth, _ = NewRDMFromVector(tv, nil)
	for s := 0; s < subjects; s++ {
		v := make([]float64, m)
		for k := range v {
			v[k] = tv[k] + noise*rng.NormFloat64()
		}
		r, _ := NewRDMFromVector(v, nil)
		subs = append(subs, r)
	}
	return
}

func TestNoiseCeiling(t *testing.T) {
	_, same := noisyRDMs(1, 10, 1, 0)
	c, err := NoiseCeiling([]*RDM{same[0], same[0], same[0]}, Spearman)
	if err != nil || math.Abs(c.Lower-1) > 1e-12 || math.Abs(c.Upper-1) > 1e-12 {
		t.Fatalf("identical subjects: %+v %v", c, err)
	}
	// By hand with Pearson, two subjects: upper = mean corr(subject, mean of z-scored subjects);
	// lower = corr(s1, s2) (each left-out subject is compared with the other).
	a, _ := NewRDMFromVector([]float64{1, 2, 3, 5, 4, 7}, nil)
	b, _ := NewRDMFromVector([]float64{2, 1, 4, 4, 6, 5}, nil)
	c, _ = NoiseCeiling([]*RDM{a, b}, Pearson)
	r := pearsonRef(a.vec, b.vec)
	if math.Abs(c.Lower-r) > 1e-12 {
		t.Fatalf("lower %v want %v", c.Lower, r)
	}
	// corr(za, (za+zb)/2) = (1+r)/sqrt(2(1+r)) = sqrt((1+r)/2)
	if math.Abs(c.Upper-math.Sqrt((1+r)/2)) > 1e-12 {
		t.Fatalf("upper %v want %v", c.Upper, math.Sqrt((1+r)/2))
	}
	_, subs := noisyRDMs(2, 20, 5, 0.3)
	for _, m := range []Method{Spearman, Pearson, KendallTauA, CosineSim} {
		c, err := NoiseCeiling(subs, m)
		if err != nil || !(c.Lower < c.Upper) || c.Upper > 1 {
			t.Fatalf("%s: %+v %v", m, c, err)
		}
	}
	if _, err := NoiseCeiling(subs[:1], Spearman); err == nil {
		t.Fatal("one subject accepted")
	}
}

func TestBootstrapDeterministicAndFast(t *testing.T) {
	truth, subs := noisyRDMs(3, 92, 4, 0.5)
	opt := BootOptions{Samples: 1000, Seed: 42, Subjects: true}
	start := time.Now()
	r1, err := Bootstrap(truth, subs, Spearman, opt)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1000 bootstrap samples, 92x92 Spearman, 4 subjects: %v", el)
	// About 0.25 s on two idle cores (0.46 CPU-s); the bound only catches a gross regression on a
	// shared, loaded machine. BenchmarkBootstrap92 measures it properly.
	if el > 20*time.Second {
		t.Errorf("bootstrap took %v", el)
	}
	opt.Samples, opt.Workers = 200, 1
	r2, _ := Bootstrap(truth, subs, Spearman, opt)
	for k := range r2.Samples {
		if r1.Samples[k] != r2.Samples[k] {
			t.Fatalf("sample %d differs between 2 workers and 1: %v vs %v", k, r1.Samples[k], r2.Samples[k])
		}
	}
	if r1.Valid != 1000 || !(r1.CILow < r1.Estimate && r1.Estimate < r1.CIHigh) || r1.SD <= 0 {
		t.Fatalf("bootstrap summary %+v", *r1)
	}
	opt.Seed, opt.Samples = 43, 10
	r3, _ := Bootstrap(truth, subs, Spearman, opt)
	if r3.Samples[0] == r1.Samples[0] {
		t.Fatal("different seeds gave the same sample")
	}
}

func TestBootstrapDropsSameStimulusPairs(t *testing.T) {
	// The model is the reference shifted by 10: Pearson r is 1 on any set of pairs of distinct
	// stimuli. A kept same-stimulus pair would add the point (0, 0), far off the line model =
	// reference + 10, and pull r below 1 (checked by hand on a resample with duplicates below),
	// so every sample must be exactly 1.
	const n = 6
	truth, subs := noisyRDMs(4, n, 1, 0)
	shifted := make([]float64, len(truth.vec))
	for k, v := range truth.vec {
		shifted[k] = v + 10
	}
	model, err := NewRDMFromVector(shifted, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 0, 1, 2, 3, 3} // a resample with two duplicated stimuli
	var mv, rv []float64
	for a := 0; a < n; a++ {
		for c := a + 1; c < n; c++ {
			if idx[a] == idx[c] {
				mv, rv = append(mv, 0), append(rv, 0)
			} else {
				mv, rv = append(mv, model.At(idx[a], idx[c])), append(rv, truth.At(idx[a], idx[c]))
			}
		}
	}
	if r := CompareVectors(mv, rv, Pearson); !(r < 0.99) {
		t.Fatalf("kept same-stimulus pairs give r = %v: the check below could not see them", r)
	}
	no := false
	r, err := Bootstrap(model, subs, Pearson, BootOptions{Samples: 20, Seed: 1, Stimuli: &no, Subjects: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Samples {
		if math.Abs(v-1) > 1e-12 {
			t.Fatalf("subject-only bootstrap of a shifted perfect model gave %v", v)
		}
	}
	r, _ = Bootstrap(model, subs, Pearson, BootOptions{Samples: 200, Seed: 1})
	finite := 0
	for _, v := range r.Samples {
		if math.IsNaN(v) {
			continue
		}
		finite++
		if math.Abs(v-1) > 1e-12 {
			t.Fatalf("shifted perfect model under stimulus resampling gave %v (a same-stimulus pair kept?)", v)
		}
	}
	if finite < 150 {
		t.Fatalf("only %d of 200 samples finite", finite)
	}
}

func TestBootstrapTest(t *testing.T) {
	truth, subs := noisyRDMs(5, 40, 3, 0.3)
	_, other := noisyRDMs(6, 40, 1, 0)
	bt, err := BootstrapTest(truth, other[0], subs, KendallTauA, BootOptions{Samples: 300, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !(bt.P < 0.01) || bt.Diff.Estimate <= 0 {
		t.Fatalf("true model vs random: p %v diff %v", bt.P, bt.Diff.Estimate)
	}
	// Every resample favours the true model, yet a finite bootstrap cannot give p = 0.
	if bt.P != 2.0/301 {
		t.Fatalf("all 300 resamples on one side: p %v, want 2/301", bt.P)
	}
	bt, _ = BootstrapTest(truth, truth, subs, KendallTauA, BootOptions{Samples: 100, Seed: 7})
	if bt.P != 1 {
		t.Fatalf("model vs itself p %v", bt.P)
	}
	small, _ := NewRDMFromVector([]float64{1, 2, 3}, nil)
	if _, err := Bootstrap(small, subs, Spearman, BootOptions{}); err == nil {
		t.Fatal("size mismatch accepted")
	}
}

// TestBootstrapVsNaive recomputes some samples the slow way: draw the same stimuli and subjects,
// build the resampled dissimilarity vectors explicitly (dropping same-stimulus pairs), pool and
// compare.
func TestBootstrapVsNaive(t *testing.T) {
	truth, subs := noisyRDMs(8, 12, 3, 0.4)
	// tie some values so that ranks matter
	for k := range subs[0].vec {
		subs[0].vec[k] = math.Round(subs[0].vec[k]*4) / 4
	}
	for _, m := range []Method{Spearman, Pearson, KendallTauA, CosineSim} {
		opt := BootOptions{Samples: 6, Seed: 11, Subjects: true}
		r, err := Bootstrap(truth, subs, m, opt)
		if err != nil {
			t.Fatal(err)
		}
		n := truth.N()
		for b := 0; b < opt.Samples; b++ {
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(b)))
			count := make([]int, n)
			for i := 0; i < n; i++ {
				count[rng.IntN(n)]++
			}
			var idx []int
			for i, c := range count {
				for k := 0; k < c; k++ {
					idx = append(idx, i)
				}
			}
			var subj []int
			for range subs {
				subj = append(subj, rng.IntN(len(subs)))
			}
			resample := func(r *RDM) []float64 {
				var v []float64
				for a := 0; a < n; a++ {
					for c := a + 1; c < n; c++ {
						if idx[a] != idx[c] {
							v = append(v, r.At(idx[a], idx[c]))
						}
					}
				}
				return v
			}
			var vs [][]float64
			for _, s := range subj {
				vs = append(vs, resample(subs[s]))
			}
			want := CompareVectors(resample(truth), pool(vs, m), m)
			if math.Abs(want-r.Samples[b]) > 1e-10 {
				t.Fatalf("%s sample %d: %v, naive %v", m, b, r.Samples[b], want)
			}
		}
	}
}

func BenchmarkBootstrap92(b *testing.B) {
	truth, subs := noisyRDMs(3, 92, 4, 0.5)
	for i := 0; i < b.N; i++ {
		if _, err := Bootstrap(truth, subs, Spearman, BootOptions{Samples: 1000, Seed: uint64(i), Subjects: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCorrelationRDM1000x4096(b *testing.B) {
	x := randDense(rand.New(rand.NewPCG(1, 1)), 1000, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FromPatterns(x, Correlation, nil); err != nil {
			b.Fatal(err)
		}
	}
}
