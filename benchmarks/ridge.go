package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// DefaultAlphas are the ridge penalties tried by inner cross-validation, relative to the mean
// eigenvalue of the centred training kernel.
var DefaultAlphas = []float64{1e-3, 1e-2, 1e-1, 1, 10, 100, 1000}

// metaSet is a stimulus set with metadata columns (for stratified folds).
type metaSet interface {
	Meta(column string) ([]string, error)
}

// kFolds splits n items into k folds by a seeded permutation; with strata, each stratum is
// dealt round-robin so every fold gets its share of each.
func kFolds(n, k int, strata []string, seed uint64) ([][]int, error) {
	if n < k {
		return nil, fmt.Errorf("%w: %d stimuli for %d folds", ErrTooFewStimuli, n, k)
	}
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	perm := rng.Perm(n)
	if strata != nil {
		slices.SortStableFunc(perm, func(a, b int) int {
			switch {
			case strata[a] < strata[b]:
				return -1
			case strata[a] > strata[b]:
				return 1
			}
			return 0
		})
	}
	folds := make([][]int, k)
	for i, p := range perm {
		folds[i%k] = append(folds[i%k], p)
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds, nil
}

// kernelRidge fits kernel ridge regression with an intercept on the rows tr of the full
// kernel K (n x n, row-major) and predicts the rows te, for each relative penalty.
// y holds the targets of all n rows (row-major, N columns).
func kernelRidge(K []float64, n int, tr, te []int, y []float64, N int, alphas []float64) ([][]float64, error) {
	m := len(tr)
	rmean := make([]float64, m)
	var all float64
	for a, i := range tr {
		for _, j := range tr {
			rmean[a] += K[i*n+j]
		}
		rmean[a] /= float64(m)
		all += rmean[a]
	}
	all /= float64(m)
	kc := mat.NewSymDense(m, nil)
	var trace float64
	for a, i := range tr {
		for b := a; b < m; b++ {
			v := K[i*n+tr[b]] - rmean[a] - rmean[b] + all
			kc.SetSym(a, b, v)
		}
		trace += kc.At(a, a)
	}
	var eig mat.EigenSym
	if !eig.Factorize(kc, true) {
		return nil, fmt.Errorf("ridge: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var U mat.Dense
	eig.VectorsTo(&U)
	ymean := make([]float64, N)
	for _, i := range tr {
		for c := 0; c < N; c++ {
			ymean[c] += y[i*N+c]
		}
	}
	for c := range ymean {
		ymean[c] /= float64(m)
	}
	yc := mat.NewDense(m, N, nil)
	for a, i := range tr {
		for c := 0; c < N; c++ {
			yc.Set(a, c, y[i*N+c]-ymean[c])
		}
	}
	var uty mat.Dense
	uty.Mul(U.T(), yc)
	kv := mat.NewDense(len(te), m, nil)
	for a, i := range te {
		var mu float64
		for _, j := range tr {
			mu += K[i*n+j]
		}
		mu /= float64(m)
		for b, j := range tr {
			kv.Set(a, b, K[i*n+j]-mu-rmean[b]+all)
		}
	}
	var kvu mat.Dense
	kvu.Mul(kv, &U)
	scale := trace / float64(m)
	if scale <= 0 {
		scale = 1
	}
	out := make([][]float64, len(alphas))
	for k, al := range alphas {
		lam := al * scale
		d := mat.DenseCopyOf(&uty)
		for r := 0; r < m; r++ {
			f := 1 / (math.Max(vals[r], 0) + lam)
			for c := 0; c < N; c++ {
				d.Set(r, c, d.At(r, c)*f)
			}
		}
		var p mat.Dense
		p.Mul(&kvu, d)
		pr := make([]float64, len(te)*N)
		for a := range te {
			for c := 0; c < N; c++ {
				pr[a*N+c] = p.At(a, c) + ymean[c]
			}
		}
		out[k] = pr
	}
	return out, nil
}

// perNeuroidR returns Pearson r per column between predictions and data (rows n, N columns),
// with per-row weights w (nil: all ones).
func perNeuroidR(pred, y []float64, n, N int, w []float64) []float64 {
	r := make([]float64, N)
	a := make([]float64, n)
	b := make([]float64, n)
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	for c := 0; c < N; c++ {
		for i := 0; i < n; i++ {
			a[i], b[i] = pred[i*N+c], y[i*N+c]
		}
		r[c] = weightedPearson(a, b, w)
	}
	return r
}

func aggregate(how string, x []float64) float64 {
	if how == "mean" {
		return mean(x)
	}
	return median(x)
}

// commonNeuroids keeps the neuroids present in both assemblies, in a's order.
func commonNeuroids(a, b *neural.Assembly) (*neural.Assembly, *neural.Assembly, int) {
	pos := map[string]int{}
	for i, id := range b.Neuroids {
		pos[id] = i
	}
	var ia, ib []int
	for i, id := range a.Neuroids {
		if j, ok := pos[id]; ok {
			ia = append(ia, i)
			ib = append(ib, j)
		}
	}
	dropped := len(a.Neuroids) + len(b.Neuroids) - 2*len(ia)
	return a.SelectNeuroids(ia), b.SelectNeuroids(ib), dropped
}

func scoreRidge(model *nn.Graph, bench *Spec, layers []string, opts Options, B int, res *Result) error {
	if bench.Data.Train == nil {
		return fmt.Errorf("metric ridge needs data with a train/test split")
	}
	trSet, err := LoadStimuli(bench.Stimuli.Set, bench.Stimuli.Train)
	if err != nil {
		return err
	}
	teSet, err := LoadStimuli(bench.Stimuli.Set, bench.Stimuli.Test)
	if err != nil {
		return err
	}
	ytrA, err := bench.loadAssembly(&bench.Data, bench.Data.Train, trSet.IDs(), res)
	if err != nil {
		return fmt.Errorf("train data: %w", err)
	}
	yteA, err := bench.loadAssembly(&bench.Data, bench.Data.Test, teSet.IDs(), res)
	if err != nil {
		return fmt.Errorf("test data: %w", err)
	}
	ytrA, yteA, dropped := commonNeuroids(ytrA, yteA)
	if dropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d neuroids kept in only one of train and test were dropped", dropped))
	}
	ntr, N, ytr := ytrA.Matrix()
	nte, _, yte := yteA.Matrix()
	if N == 0 {
		return fmt.Errorf("no neuroids left in both train and test data")
	}
	if nte < 3 {
		return fmt.Errorf("%w: %d test stimuli, need at least 3 for a correlation", ErrTooFewStimuli, nte)
	}
	var strata []string
	if col := bench.Metric.Stratify; col != "" {
		ms, ok := trSet.(metaSet)
		if !ok {
			return fmt.Errorf("metric.stratify %q: the stimulus set has no metadata", col)
		}
		if strata, err = ms.Meta(col); err != nil {
			return err
		}
	}
	folds, err := kFolds(ntr, bench.Metric.Folds, strata, opts.Seed)
	if err != nil {
		return fmt.Errorf("inner cross-validation: %w", err)
	}
	alphas := bench.Metric.Alphas
	if len(alphas) == 0 {
		alphas = DefaultAlphas
	}
	ftr, err := extract(model, bench.Stimuli.Set+"/"+bench.Stimuli.Train, trSet, layers, opts.CacheDir)
	if err != nil {
		return err
	}
	fte, err := extract(model, bench.Stimuli.Set+"/"+bench.Stimuli.Test, teSet, layers, opts.CacheDir)
	if err != nil {
		return err
	}
	n := ntr + nte
	yall := append(slices.Clone(ytr), yte...)
	trIdx := identity(ntr)
	teIdx := make([]int, nte)
	for i := range teIdx {
		teIdx[i] = ntr + i
	}
	agg := bench.Metric.Aggregate
	sel := make([]float64, len(layers))
	full := make([]float64, len(layers))
	preds := make([][]float64, len(layers))
	for li := range layers {
		K := standardizedKernel(ftr[li], fte[li])
		// Inner CV on the training stimuli: pooled out-of-fold predictions per penalty.
		cv := make([][]float64, len(alphas))
		for k := range cv {
			cv[k] = make([]float64, ntr*N)
		}
		for f, val := range folds {
			var fit []int
			for g, o := range folds {
				if g != f {
					fit = append(fit, o...)
				}
			}
			p, err := kernelRidge(K, n, fit, val, yall, N, alphas)
			if err != nil {
				return fmt.Errorf("layer %s: %w", layers[li], err)
			}
			for k := range alphas {
				for a, i := range val {
					copy(cv[k][i*N:(i+1)*N], p[k][a*N:(a+1)*N])
				}
			}
		}
		bestK, bestS := 0, math.Inf(-1)
		for k := range alphas {
			s := aggregate(agg, perNeuroidR(cv[k], ytr, ntr, N, nil))
			if s > bestS {
				bestK, bestS = k, s
			}
		}
		sel[li] = bestS
		p, err := kernelRidge(K, n, trIdx, teIdx, yall, N, alphas[bestK:bestK+1])
		if err != nil {
			return fmt.Errorf("layer %s: %w", layers[li], err)
		}
		preds[li] = p[0]
		full[li] = aggregate(agg, perNeuroidR(p[0], yte, nte, N, nil))
	}
	res.Formula = "no ceiling: raw scores"
	if bench.Ceiling.Type == "split-half" {
		return fmt.Errorf("ceiling split-half for regression is not implemented yet")
	}
	best, _ := bestTwo(sel)
	if best < 0 {
		return fmt.Errorf("no layer gives a finite cross-validated score")
	}
	res.BestLayer = layers[best]
	res.Selection = fmt.Sprintf("chosen by %d-fold cross-validation on the %d train stimuli, scored on the %d test stimuli", len(folds), ntr, nte)
	res.HeldOut = full[best]

	boot := make([][]float64, len(layers))
	for i := range boot {
		boot[i] = make([]float64, B)
	}
	parallel(B, func(b int) {
		w := sampleCounts(nte, opts.Seed, b)
		for li := range layers {
			boot[li][b] = aggregate(agg, perNeuroidR(preds[li], yte, nte, N, w))
		}
	})
	for i, l := range layers {
		ls := LayerScore{Layer: l, Score: full[i], Selection: sel[i], CILow: full[i], CIHigh: full[i]}
		if B > 0 {
			ls.CILow, ls.CIHigh = ciOf(boot[i])
		}
		res.Layers = append(res.Layers, ls)
	}
	setBestVsSecond(res, full, boot, layers, B)
	return nil
}

// standardizedKernel z-scores the feature columns with the training rows' mean and standard
// deviation (constant columns dropped) and returns the (ntr+nte)^2 linear kernel.
func standardizedKernel(tr, te *Features) []float64 {
	F := tr.Cols
	n := tr.Rows + te.Rows
	z := make([]float32, n*F)
	for c := 0; c < F; c++ {
		var m, ss float64
		for r := 0; r < tr.Rows; r++ {
			m += float64(tr.Data[r*F+c])
		}
		m /= float64(tr.Rows)
		for r := 0; r < tr.Rows; r++ {
			d := float64(tr.Data[r*F+c]) - m
			ss += d * d
		}
		if ss == 0 {
			continue
		}
		s := 1 / math.Sqrt(ss/float64(tr.Rows))
		for r := 0; r < tr.Rows; r++ {
			z[r*F+c] = float32((float64(tr.Data[r*F+c]) - m) * s)
		}
		for r := 0; r < te.Rows; r++ {
			z[(tr.Rows+r)*F+c] = float32((float64(te.Data[r*F+c]) - m) * s)
		}
	}
	g := make([]float32, n*n)
	tensor.Sgemm(false, true, n, n, F, 1, z, F, z, F, 0, g, n)
	K := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			K[i*n+j] = (float64(g[i*n+j]) + float64(g[j*n+i])) / 2
		}
	}
	return K
}
