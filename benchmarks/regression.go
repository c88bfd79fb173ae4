package benchmarks

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/metrics/ceiling"
	"github.com/ventral-lab/ventral/metrics/regression"
	"github.com/ventral-lab/ventral/metrics/stats"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
)

// DefaultAlphas are the ridge penalties tried by inner cross-validation, relative to the mean
// eigenvalue of the centred training kernel (regression.FitRidgeCV gets them times that mean).
var DefaultAlphas = []float64{1e-3, 1e-2, 1e-1, 1, 10, 100, 1000}

// kernelFeatures returns an n x r matrix X' whose Gram matrix X'X'ᵀ equals ZZᵀ, where Z stacks
// the rows of parts (n in all) after centring each feature by the mean of the first fit rows
// and, with standardize, dividing it by their standard deviation (features constant over those
// rows dropped). X' is the pivoted Cholesky factor of ZZᵀ (pivots below 1e-9 of the largest
// diagonal entry dropped), so r <= n.
//
// Ridge and PLS (without scaling) with an intercept give the same predictions from X' as from
// Z: ridge depends on the features only through the kernel, and PLS is unchanged by an
// orthogonal change of feature basis (its weights lie in the row space of Z, which X' = ZV
// spans). A layer of 200,000 features thus costs one float32 GEMM for the kernel, and every
// fit afterwards works on an n x r matrix.
func kernelFeatures(parts []*activations.Matrix, fit int, standardize bool) (*mat.Dense, error) {
	F := parts[0].Cols
	n := 0
	for _, p := range parts {
		if p.Cols != F {
			return nil, fmt.Errorf("feature matrices with %d and %d columns", F, p.Cols)
		}
		n += p.Rows
	}
	row := func(i int) []float32 {
		for _, p := range parts {
			if i < p.Rows {
				return p.Data[i*F : (i+1)*F]
			}
			i -= p.Rows
		}
		return nil
	}
	mean := make([]float64, F)
	scale := make([]float64, F)
	for i := 0; i < fit; i++ {
		for c, v := range row(i) {
			mean[c] += float64(v)
		}
	}
	for c := range mean {
		mean[c] /= float64(fit)
	}
	for i := 0; i < fit; i++ {
		for c, v := range row(i) {
			d := float64(v) - mean[c]
			scale[c] += d * d
		}
	}
	for c, ss := range scale {
		switch {
		case ss == 0:
			scale[c] = 0
		case standardize:
			scale[c] = 1 / math.Sqrt(ss/float64(fit))
		default:
			scale[c] = 1
		}
	}
	z := make([]float32, n*F)
	for i := 0; i < n; i++ {
		zi := z[i*F : (i+1)*F]
		for c, v := range row(i) {
			zi[c] = float32((float64(v) - mean[c]) * scale[c])
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
	X := pivotedCholesky(K, n, 1e-9)
	if X == nil {
		return nil, fmt.Errorf("the layer's responses are constant over the stimuli")
	}
	return X, nil
}

// pivotedCholesky returns an n x r factor L of the positive semi-definite n x n matrix K
// (row-major) with L Lᵀ = K up to the pivots it stops at: those below tol times K's largest
// diagonal entry (nil when K's diagonal is all 0). Rows stay in K's order (the pivoting only
// chooses which column comes next), so row i of L belongs to stimulus i. It costs n³/6
// multiply-adds where an eigendecomposition of K (the earlier factor, U √Λ) spent about ten
// times that in gonum's unvectorized QL sweeps: on the V4 benchmarks' 800 and 1,200 stimuli
// that decomposition was the largest single cost of scoring a layer. Any factor with the same
// Gram matrix serves (see kernelFeatures): they differ by an orthogonal map of the columns.
func pivotedCholesky(K []float64, n int, tol float64) *mat.Dense {
	d := make([]float64, n)
	top := 0.0
	for i := range d {
		d[i] = K[i*n+i]
		top = max(top, d[i])
	}
	if !(top > 0) {
		return nil
	}
	L := make([]float64, n*n)
	done := make([]bool, n)
	r := 0
	for ; r < n; r++ {
		p := -1
		for i, v := range d {
			if !done[i] && (p < 0 || v > d[p]) {
				p = i
			}
		}
		if p < 0 || !(d[p] > tol*top) {
			break
		}
		done[p] = true
		piv := math.Sqrt(d[p])
		lp := L[p*n : p*n+r]
		L[p*n+r] = piv
		for i := 0; i < n; i++ {
			if done[i] {
				continue
			}
			li := L[i*n : i*n+r]
			v := K[i*n+p]
			for m, x := range lp {
				v -= li[m] * x
			}
			v /= piv
			L[i*n+r] = v
			d[i] -= v * v
		}
	}
	X := mat.NewDense(n, r, nil)
	for i := 0; i < n; i++ {
		X.SetRow(i, L[i*n:i*n+r])
	}
	return X
}

// meanEigenvalue is the mean eigenvalue of the centred kernel of X's rows: the summed column
// variance (divided by n).
func meanEigenvalue(X *mat.Dense) float64 {
	n, r := X.Dims()
	var tr float64
	for c := 0; c < r; c++ {
		var m float64
		for i := 0; i < n; i++ {
			m += X.At(i, c)
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			d := X.At(i, c) - m
			tr += d * d
		}
	}
	if tr <= 0 {
		return 1
	}
	return tr / float64(n)
}

// rowsOf returns the rows idx of X as a new matrix.
func rowsOf(X *mat.Dense, idx []int) *mat.Dense {
	_, c := X.Dims()
	out := mat.NewDense(len(idx), c, nil)
	for a, i := range idx {
		out.SetRow(a, X.RawRowView(i))
	}
	return out
}

// foldScores aggregates each fold's per-neuroid r (median or mean over the scored neuroids).
func foldScores(cv *regression.CVResult, how string) []float64 {
	out := make([]float64, len(cv.FoldR))
	for f, r := range cv.FoldR {
		out[f] = aggregate(how, r)
	}
	return out
}

// cvScore is the mean and standard error over folds of foldScores.
func cvScore(cv *regression.CVResult, how string) (mean, se float64, folds []float64) {
	folds = foldScores(cv, how)
	mean, se = stats.MeanSE(finite(folds))
	return mean, se, folds
}

// cvWarnings adds a summary of a cross-validation's warnings.
func cvWarnings(res *Result, layer string, cv *regression.CVResult) {
	if len(cv.Warnings) == 0 {
		return
	}
	w := fmt.Sprintf("layer %s: %s", layer, cv.Warnings[0])
	if len(cv.Warnings) > 1 {
		w += fmt.Sprintf(" (and %d more warnings like it)", len(cv.Warnings)-1)
	}
	res.Warnings = append(res.Warnings, w)
}

// strataOf returns the stimulus metadata column to stratify folds by: from the stimulus set,
// else from the assembly's stimulus metadata (nil without a column).
func strataOf(col string, set *stimuli.Set, a *neural.Assembly) ([]string, error) {
	if col == "" {
		return nil, nil
	}
	if v, err := set.Meta(col); err == nil {
		return v, nil
	}
	if v, ok := a.StimulusMeta[col]; ok {
		return v, nil
	}
	cols := set.Columns()
	for c := range a.StimulusMeta {
		cols = append(cols, c)
	}
	return nil, fmt.Errorf("metric.stratify %q: no such stimulus metadata column (have: %s)", col, strings.Join(cols, ", "))
}

// splitHalf estimates the split-half ceiling from an assembly's repetitions (features are
// neuroid x time bin, as Assembly.Matrix); NaN marks a missing repetition
// (ceiling.SplitHalfMissing, 100 seeded splits).
func splitHalf(a *neural.Assembly, seed uint64) (*ceiling.Reliability, error) {
	S, N, T, R := a.Shape()
	if R < 2 {
		return nil, fmt.Errorf("ceiling split-half needs repetitions; the data have %d per stimulus", R)
	}
	resp, err := ceiling.NewResponsesMissing(S, N*T, R, a.Data)
	if err != nil {
		return nil, fmt.Errorf("ceiling split-half: %w", err)
	}
	rel, err := ceiling.SplitHalfMissing(resp, ceiling.DrawSplits(S, R, splitHalfSplits, seed))
	if err != nil {
		return nil, fmt.Errorf("ceiling split-half: %w", err)
	}
	if rel.Neuroids == 0 {
		return nil, fmt.Errorf("ceiling split-half: no neuroid has a finite split-half r (%d stimuli have at least 2 repetitions for every neuroid)", rel.Stimuli)
	}
	return rel, nil
}

const splitHalfSplits = 100

// splitHalfSubset is splitHalf over the stimuli idx.
func splitHalfSubset(a *neural.Assembly, idx []int, seed uint64) (*ceiling.Reliability, error) {
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = a.Stimuli[i]
	}
	_, N, T, R := a.Shape()
	per := N * T * R
	sub := *a
	sub.Stimuli = ids
	sub.Data = make([]float64, 0, len(idx)*per)
	for _, i := range idx {
		sub.Data = append(sub.Data, a.Data[i*per:(i+1)*per]...)
	}
	sub.StimulusMeta = nil
	return splitHalf(&sub, seed)
}

const splitHalfFormula = "normalised = raw / ceiling (" + string(ceiling.RatioR) + "); ceiling = median over neuroids of the " +
	"Spearman-Brown corrected split-half r (Pearson r across stimuli between the means of two random halves of each stimulus's present repetitions, " +
	"an odd one to a random half, stimuli with fewer than 2 left out; averaged over 100 splits)"

// setSplitHalf records a split-half ceiling in res: its value, per-neuroid values, and how
// many stimuli and neuroids it used.
func setSplitHalf(res *Result, rel *ceiling.Reliability) {
	res.Ceiling.Value = rel.Median
	res.Ceiling.Stimuli = rel.Stimuli
	res.Ceiling.Neuroids = rel.Neuroids
	res.NeuroidCeiling = Floats(rel.PerNeuroid)
	res.Formula = splitHalfFormula
	if len(rel.StimuliPerNeuroid) > 0 {
		lo, hi := slices.Min(rel.StimuliPerNeuroid), slices.Max(rel.StimuliPerNeuroid)
		if lo != hi {
			res.Warnings = append(res.Warnings, fmt.Sprintf("ceiling: neuroids have at least 2 repetitions for %d to %d stimuli (%d for every neuroid); each neuroid's ceiling uses its own", lo, hi, rel.Stimuli))
		}
	}
	for _, w := range rel.Warnings {
		res.Warnings = append(res.Warnings, "ceiling: "+w)
	}
}

// normalize divides by the ceiling (nil for a ceiling that is not positive and finite).
func normalize(r, c float64) *float64 {
	v, err := ceiling.Normalize(r, c, ceiling.RatioR)
	if err != nil {
		return nil
	}
	return ptr(v)
}

// withIntervals gives a regression layer score its 95% bootstrap interval (B samples in boot;
// none: the score itself) and, with a ceiling, its normalised score and interval.
func withIntervals(ls LayerScore, boot []float64, ceil float64, B int) LayerScore {
	ls.CILow, ls.CIHigh = ls.Score, ls.Score
	if B > 0 {
		ls.CILow, ls.CIHigh = ciOf(boot)
	}
	if ceil != 0 {
		ls.Normalized = normalize(ls.Score, ceil)
		if B > 0 {
			ls.NormCILow, ls.NormCIHigh = normalize(ls.CILow, ceil), normalize(ls.CIHigh, ceil)
		}
	}
	return ls
}

func scoreRidge(model subject.Model, bench *Spec, layers []string, opts Options, B int, res *Result) error {
	if bench.Data.Train == nil {
		return fmt.Errorf("metric ridge needs data with a train/test split")
	}
	trSet, err := bench.StimulusSet(bench.Stimuli.Train)
	if err != nil {
		return err
	}
	teSet, err := bench.StimulusSet(bench.Stimuli.Test)
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
	folds := bench.Metric.Folds
	if ntr < folds {
		return fmt.Errorf("inner cross-validation: %w: %d stimuli for %d folds", ErrTooFewStimuli, ntr, folds)
	}
	strata, err := strataOf(bench.Metric.Stratify, trSet, ytrA)
	if err != nil {
		return err
	}
	alphas := bench.Metric.Alphas
	if len(alphas) == 0 {
		alphas = DefaultAlphas
	}
	res.Neuroids = neuroidIDs(yteA)
	res.Formula = "no ceiling: raw scores"
	var ceil float64
	if bench.Ceiling.Type == "split-half" {
		rel, err := splitHalf(yteA, opts.Seed)
		if err != nil {
			return err
		}
		setSplitHalf(res, rel)
		ceil = rel.Median
	}
	ftr, err := extract(model, trSet, layers, opts.CacheDir, bench.projection(opts.Seed), res)
	if err != nil {
		return err
	}
	fte, err := extract(model, teSet, layers, opts.CacheDir, bench.projection(opts.Seed), res)
	if err != nil {
		return err
	}
	Ytr := mat.NewDense(ntr, N, ytr)
	Yte := mat.NewDense(nte, N, yte)
	agg := bench.Metric.Aggregate
	sel := make([]float64, len(layers))
	full := make([]float64, len(layers))
	perN := make([][]float64, len(layers))
	preds := make([]*mat.Dense, len(layers))
	teIdx := make([]int, nte)
	for i := range teIdx {
		teIdx[i] = ntr + i
	}
	for li, l := range layers {
		X, err := kernelFeatures([]*activations.Matrix{ftr[li], fte[li]}, ntr, true)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		Xtr, Xte := rowsOf(X, identity(ntr)), rowsOf(X, teIdx)
		scale := meanEigenvalue(Xtr)
		abs := make([]float64, len(alphas))
		for k, a := range alphas {
			abs[k] = a * scale
		}
		reg := regression.RidgeRegressor{Alphas: abs, InnerFolds: folds, Seed: opts.Seed}
		cv, err := regression.CrossValidate(Xtr, Ytr, reg, regression.CVOptions{Folds: folds, Seed: opts.Seed, Stratify: strata})
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		cvWarnings(res, l, cv)
		sel[li], _, _ = cvScore(cv, agg)
		fit, err := regression.FitRidgeCV(Xtr, Ytr, abs, folds, opts.Seed)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		if preds[li], err = fit.Predict(Xte); err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		if perN[li], err = stats.ColumnPearson(preds[li], Yte); err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		full[li] = aggregate(agg, perN[li])
	}
	best, _ := bestTwo(sel)
	if best < 0 {
		return fmt.Errorf("no layer gives a finite cross-validated score")
	}
	res.BestLayer = layers[best]
	res.Selection = fmt.Sprintf("chosen by %d-fold cross-validation (penalty by nested %d-fold cross-validation) on the %d train stimuli, scored on the %d test stimuli", folds, folds, ntr, nte)
	res.HeldOut = full[best]
	if ceil != 0 {
		res.HeldOutNormalized = normalize(res.HeldOut, ceil)
	}

	// Bootstrap over the test stimuli: per-neuroid r under stimulus counts.
	boot := make([][]float64, len(layers))
	for i := range boot {
		boot[i] = make([]float64, B)
	}
	parallel(B, func(b int) {
		w := sampleCounts(nte, opts.Seed, b)
		a, y := make([]float64, nte), make([]float64, nte)
		r := make([]float64, N)
		for li := range layers {
			for c := 0; c < N; c++ {
				for i := 0; i < nte; i++ {
					a[i], y[i] = preds[li].At(i, c), yte[i*N+c]
				}
				r[c] = stats.WeightedPearson(a, y, w)
			}
			boot[li][b] = aggregate(agg, r)
		}
	})
	res.HeldOutResampling = fmt.Sprintf("the %d test stimuli", nte)
	res.HeldOutSamples = append([]float64(nil), boot[best]...)
	for i, l := range layers {
		ls := LayerScore{Layer: l, Score: full[i], Selection: sel[i], PerNeuroid: Floats(perN[i])}
		res.Layers = append(res.Layers, withIntervals(ls, boot[i], ceil, B))
	}
	setBestVsSecond(res, full, boot, layers, B)
	return nil
}

// scorePLS scores each layer by PLS regression (regression.PLSRegressor, without scaling, as
// Brain-Score) cross-validated over all stimuli: Pearson r per neuroid on each held-out fold,
// the median over neuroids per fold, and the mean and standard error over folds. The layer
// is chosen by the same cross-validation within a seeded half of the stimuli and scored
// within the other half. Intervals come from a bootstrap over folds.
func scorePLS(model subject.Model, bench *Spec, layers []string, opts Options, B int, res *Result) error {
	set, err := bench.StimulusSet("")
	if err != nil {
		return err
	}
	ids := set.IDs()
	a, err := bench.loadAssembly(&bench.Data, nil, ids, res)
	if err != nil {
		return err
	}
	S, N, y := a.Matrix()
	folds := bench.Metric.Folds
	if S < 2*folds {
		return fmt.Errorf("%w: %d stimuli for %d folds (layer selection cross-validates within each half of the stimuli, so at least %d are needed)",
			ErrTooFewStimuli, S, folds, 2*folds)
	}
	strata, err := strataOf(bench.Metric.Stratify, set, a)
	if err != nil {
		return err
	}
	ha, hb := halves(S, opts.Seed)
	res.Neuroids = neuroidIDs(a)
	res.Formula = "no ceiling: raw scores"
	var ceil, ceilB float64
	if bench.Ceiling.Type == "split-half" {
		rel, err := splitHalf(a, opts.Seed)
		if err != nil {
			return err
		}
		setSplitHalf(res, rel)
		ceil = rel.Median
		relB, err := splitHalfSubset(a, hb, opts.Seed)
		if err != nil {
			return err
		}
		ceilB = relB.Median
	}
	feats, err := extract(model, set, layers, opts.CacheDir, bench.projection(opts.Seed), res)
	if err != nil {
		return err
	}
	Y := mat.NewDense(S, N, y)
	Ya, Yb := rowsOf(Y, ha), rowsOf(Y, hb)
	var sa, sb []string
	for _, i := range ha {
		if strata != nil {
			sa = append(sa, strata[i])
		}
	}
	for _, i := range hb {
		if strata != nil {
			sb = append(sb, strata[i])
		}
	}
	agg := bench.Metric.Aggregate
	cvo := regression.CVOptions{Folds: folds, Seed: opts.Seed, Stratify: strata}
	full := make([]float64, len(layers))
	se := make([]float64, len(layers))
	sel := make([]float64, len(layers))
	perFold := make([][]float64, len(layers))
	perN := make([][]float64, len(layers))
	Xs := make([]*mat.Dense, len(layers))
	regFor := func(X *mat.Dense) regression.PLSRegressor {
		_, r := X.Dims()
		return regression.PLSRegressor{Components: min(bench.Metric.Components, r)}
	}
	for li, l := range layers {
		X, err := kernelFeatures([]*activations.Matrix{feats[li]}, S, false)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		Xs[li] = X
		if _, r := X.Dims(); r < bench.Metric.Components {
			res.Warnings = append(res.Warnings, fmt.Sprintf("layer %s: its responses span %d dimensions; PLS uses %d components, not %d", l, r, r, bench.Metric.Components))
		}
		cv, err := regression.CrossValidate(X, Y, regFor(X), cvo)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		cvWarnings(res, l, cv)
		full[li], se[li], perFold[li] = cvScore(cv, agg)
		perN[li] = cv.PerNeuroid
		o := cvo
		o.Stratify = sa
		cva, err := regression.CrossValidate(rowsOf(X, ha), Ya, regFor(X), o)
		if err != nil {
			return fmt.Errorf("layer %s, selection half: %w", l, err)
		}
		sel[li], _, _ = cvScore(cva, agg)
	}
	best, _ := bestTwo(sel)
	if best < 0 {
		return fmt.Errorf("no layer gives a finite cross-validated score")
	}
	res.BestLayer = layers[best]
	o := cvo
	o.Stratify = sb
	cvb, err := regression.CrossValidate(rowsOf(Xs[best], hb), Yb, regFor(Xs[best]), o)
	if err != nil {
		return fmt.Errorf("layer %s, held-out half: %w", res.BestLayer, err)
	}
	var heldFolds []float64
	res.HeldOut, _, heldFolds = cvScore(cvb, agg)
	res.Selection = fmt.Sprintf("chosen by %d-fold cross-validation within %d of %d stimuli (seeded split), scored the same way within the other %d", folds, len(ha), S, len(hb))
	if ceil != 0 {
		res.HeldOutNormalized = normalize(res.HeldOut, ceilB)
	}

	// Bootstrap over folds (paired across layers): the mean of resampled fold scores.
	nf := len(perFold[0])
	boot := make([][]float64, len(layers))
	for i := range boot {
		boot[i] = make([]float64, B)
	}
	parallel(B, func(b int) {
		w := sampleCounts(nf, opts.Seed, b)
		for li := range layers {
			boot[li][b] = weightedMean(perFold[li], w)
		}
	})
	res.HeldOutResampling = fmt.Sprintf("the %d cross-validation folds of the %d held-out stimuli", len(heldFolds), len(hb))
	res.HeldOutSamples = make([]float64, B)
	parallel(B, func(b int) {
		res.HeldOutSamples[b] = weightedMean(heldFolds, heldOutCounts(len(heldFolds), identity(len(heldFolds)), opts.Seed, b))
	})
	for i, l := range layers {
		ls := LayerScore{Layer: l, Score: full[i], SE: ptr(se[i]), Selection: sel[i], FoldScores: Floats(perFold[i]), PerNeuroid: Floats(perN[i])}
		res.Layers = append(res.Layers, withIntervals(ls, boot[i], ceil, B))
	}
	setBestVsSecond(res, full, boot, layers, B)
	return nil
}

// neuroidIDs names the features of Assembly.Matrix: the neuroid id, with the time bin when
// there are several.
func neuroidIDs(a *neural.Assembly) []string {
	_, _, T, _ := a.Shape()
	var out []string
	for _, n := range a.Neuroids {
		if T == 1 {
			out = append(out, n)
			continue
		}
		for _, t := range a.TimeBins {
			out = append(out, n+"@"+t)
		}
	}
	return out
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
