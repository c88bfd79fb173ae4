package regression

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// Predictor predicts responses (stimuli x neuroids) from features (stimuli x features).
type Predictor interface {
	Predict(X *mat.Dense) (*mat.Dense, error)
}

// Regressor fits a Predictor on training data.
type Regressor interface {
	Fit(X, Y *mat.Dense) (Predictor, error)
	Name() string
}

// PLSRegressor fits FitPLS(X, Y, Components, Scale); Components 0 means 25.
type PLSRegressor struct {
	Components int
	Scale      bool
}

// Fit implements Regressor.
func (r PLSRegressor) Fit(X, Y *mat.Dense) (Predictor, error) {
	c := r.Components
	if c == 0 {
		c = 25
	}
	return FitPLS(X, Y, c, r.Scale)
}

// Name implements Regressor.
func (r PLSRegressor) Name() string { return fmt.Sprintf("pls%d(scale=%v)", r.Components, r.Scale) }

// RidgeRegressor fits FitRidgeCV(X, Y, Alphas, InnerFolds, Seed); a single alpha fixes the penalty.
type RidgeRegressor struct {
	Alphas     []float64
	InnerFolds int
	Seed       uint64
}

// Fit implements Regressor.
func (r RidgeRegressor) Fit(X, Y *mat.Dense) (Predictor, error) {
	return FitRidgeCV(X, Y, r.Alphas, r.InnerFolds, r.Seed)
}

// Name implements Regressor.
func (r RidgeRegressor) Name() string { return "ridge-cv" }

// OLSRegressor fits FitOLS.
type OLSRegressor struct{}

// Fit implements Regressor.
func (OLSRegressor) Fit(X, Y *mat.Dense) (Predictor, error) { return FitOLS(X, Y) }

// Name implements Regressor.
func (OLSRegressor) Name() string { return "ols" }

// CVOptions configures CrossValidate.
type CVOptions struct {
	Folds    int      // default 10
	Seed     uint64   // shuffle seed (PCG(Seed, 0))
	Stratify []string // optional label per stimulus: every fold gets each label in proportion
	Workers  int      // folds fitted at once; default 2
}

// CVResult is a cross-validated neural predictivity score.
type CVResult struct {
	Folds      [][]int     // held-out stimulus indices per fold
	FoldR      [][]float64 // Pearson r per fold and neuroid (NaN where excluded)
	PerNeuroid []float64   // r per neuroid, mean over the folds where it was defined (NaN if excluded)
	FoldMedian []float64   // median over the scored neuroids, per fold
	Mean, SE   float64     // mean and standard error over folds of FoldMedian
	Excluded   []int       // neuroids constant over all stimuli: not scored
	Warnings   []string
}

// KFold splits n stimuli into k folds after a seeded shuffle (PCG(seed, 0)); fold sizes differ by
// at most one, the larger ones first (as scikit-learn's KFold). With labels (one per stimulus) the
// split is stratified: each label's stimuli are shuffled and dealt to the folds in turn, the deal
// continuing across labels in sorted label order, so every fold holds each label's count divided by
// k, rounded up or down.
func KFold(n, k int, labels []string, seed uint64) ([][]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("regression: need at least 2 folds, got %d", k)
	}
	if n < k {
		return nil, fmt.Errorf("regression: %d stimuli are fewer than %d folds", n, k)
	}
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("regression: %d stratification labels for %d stimuli", len(labels), n)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	folds := make([][]int, k)
	if labels == nil {
		perm := rng.Perm(n)
		start := 0
		for f := 0; f < k; f++ {
			size := n / k
			if f < n%k {
				size++
			}
			folds[f] = append([]int(nil), perm[start:start+size]...)
			start += size
		}
	} else {
		groups := map[string][]int{}
		for i, l := range labels {
			groups[l] = append(groups[l], i)
		}
		keys := make([]string, 0, len(groups))
		for l := range groups {
			keys = append(keys, l)
		}
		sort.Strings(keys)
		f := 0
		for _, l := range keys {
			g := groups[l]
			rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
			for _, i := range g {
				folds[f] = append(folds[f], i)
				f = (f + 1) % k
			}
		}
	}
	for _, fo := range folds {
		slices.Sort(fo)
	}
	return folds, nil
}

// CrossValidate scores how well reg predicts Y from X: for each fold it fits on the other folds,
// predicts the held-out stimuli and takes Pearson r per neuroid. Neuroids constant over all
// stimuli are excluded with a warning; a neuroid whose held-out responses or predictions are
// constant in one fold is left out of that fold, also with a warning — never a silent NaN. Folds
// run on opt.Workers goroutines; the result does not depend on scheduling.
func CrossValidate(X, Y *mat.Dense, reg Regressor, opt CVOptions) (*CVResult, error) {
	n, _, q, err := checkXY(X, Y)
	if err != nil {
		return nil, err
	}
	if opt.Folds == 0 {
		opt.Folds = 10
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	folds, err := KFold(n, opt.Folds, opt.Stratify, opt.Seed)
	if err != nil {
		return nil, err
	}
	res := &CVResult{Folds: folds, FoldR: make([][]float64, len(folds))}
	excluded := make([]bool, q)
	for j := 0; j < q; j++ {
		v0 := Y.At(0, j)
		constant := true
		for i := 1; i < n && constant; i++ {
			constant = Y.At(i, j) == v0
		}
		if constant {
			excluded[j] = true
			res.Excluded = append(res.Excluded, j)
		}
	}
	if len(res.Excluded) == q {
		return nil, fmt.Errorf("regression: all %d neuroids are constant", q)
	}
	if len(res.Excluded) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d constant neuroid(s) excluded: %v", len(res.Excluded), res.Excluded))
	}
	errs := make([]error, len(folds))
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for f := w; f < len(folds); f += opt.Workers {
				test := folds[f]
				train := complement(n, test)
				m, err := reg.Fit(rows(X, train), rows(Y, train))
				if err != nil {
					errs[f] = fmt.Errorf("regression: fold %d: %w", f, err)
					continue
				}
				pred, err := m.Predict(rows(X, test))
				if err != nil {
					errs[f] = fmt.Errorf("regression: fold %d: %w", f, err)
					continue
				}
				r, _ := stats.ColumnPearson(pred, rows(Y, test))
				res.FoldR[f] = r
			}
		}(w)
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	res.PerNeuroid = make([]float64, q)
	for j := 0; j < q; j++ {
		if excluded[j] {
			res.PerNeuroid[j] = math.NaN()
			for f := range folds {
				res.FoldR[f][j] = math.NaN()
			}
			continue
		}
		var s float64
		var c int
		for f := range folds {
			v := res.FoldR[f][j]
			if math.IsNaN(v) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("fold %d: neuroid %d has constant held-out responses or predictions; left out of that fold", f, j))
				continue
			}
			s += v
			c++
		}
		res.PerNeuroid[j] = math.NaN()
		if c > 0 {
			res.PerNeuroid[j] = s / float64(c)
		}
	}
	for f := range folds {
		var ok []float64
		for _, v := range res.FoldR[f] {
			if !math.IsNaN(v) {
				ok = append(ok, v)
			}
		}
		if len(ok) == 0 {
			return nil, fmt.Errorf("regression: fold %d: no neuroid could be scored", f)
		}
		res.FoldMedian = append(res.FoldMedian, stats.Median(ok))
	}
	res.Mean, res.SE = stats.MeanSE(res.FoldMedian)
	return res, nil
}

func complement(n int, test []int) []int {
	in := make([]bool, n)
	for _, i := range test {
		in[i] = true
	}
	out := make([]int, 0, n-len(test))
	for i := 0; i < n; i++ {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}

func rows(m *mat.Dense, idx []int) *mat.Dense {
	_, c := m.Dims()
	out := mat.NewDense(len(idx), c, nil)
	for k, i := range idx {
		copy(out.RawRowView(k), m.RawRowView(i))
	}
	return out
}
