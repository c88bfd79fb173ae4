package regression

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Linear is a fitted linear map with intercept: Ŷ = (X - XMean) Coef + YMean.
type Linear struct {
	Coef  *mat.Dense // features x neuroids
	XMean []float64
	YMean []float64
	Alpha float64 // ridge penalty used (0 for least squares)
}

// Predict returns Ŷ for X (stimuli x features).
func (l *Linear) Predict(X *mat.Dense) (*mat.Dense, error) {
	return predictLinear(X, l.Coef, l.XMean, l.YMean)
}

// gramEig holds the eigendecomposition of the smaller Gram matrix of centred X: XcᵀXc = V Λ Vᵀ
// (primal, features <= stimuli) or XcXcᵀ = U Λ Uᵀ (kernel trick, features > stimuli). Both give
// the SVD Xc = U S Vᵀ with S² = Λ, so one decomposition serves every penalty.
type gramEig struct {
	kernel bool
	vals   []float64
	vecs   *mat.Dense
	xc     *mat.Dense
	xtY    *mat.Dense // primal: Vᵀ Xcᵀ Yc (r x q); kernel: Uᵀ Yc (r x q)
	xMean  []float64
	yMean  []float64
}

func newGramEig(X, Y *mat.Dense) (*gramEig, error) {
	n, p := X.Dims()
	xc, xMean, _ := standardise(X, false)
	yc, yMean, _ := standardise(Y, false)
	g := &gramEig{kernel: p > n, xc: xc, xMean: xMean, yMean: yMean}
	var gram mat.Dense
	if g.kernel {
		gram.Mul(xc, xc.T())
	} else {
		gram.Mul(xc.T(), xc)
	}
	k, _ := gram.Dims()
	sym := mat.NewSymDense(k, nil)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			sym.SetSym(i, j, (gram.At(i, j)+gram.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, fmt.Errorf("regression: eigendecomposition of the %dx%d Gram matrix failed", k, k)
	}
	g.vals = eig.Values(nil)
	g.vecs = new(mat.Dense)
	eig.VectorsTo(g.vecs)
	g.xtY = new(mat.Dense)
	if g.kernel {
		g.xtY.Mul(g.vecs.T(), yc)
	} else {
		var t mat.Dense
		t.Mul(xc.T(), yc)
		g.xtY.Mul(g.vecs.T(), &t)
	}
	return g, nil
}

// coef returns the ridge coefficients for penalty alpha: V diag(1/(λ+α)) Vᵀ XcᵀYc (primal) or
// Xcᵀ U diag(1/(λ+α)) Uᵀ Yc (kernel). Directions with λ <= 1e-12 λmax are dropped, which makes
// alpha = 0 the minimum-norm least-squares solution.
func (g *gramEig) coef(alpha float64) *mat.Dense {
	k := len(g.vals)
	lmax := g.vals[k-1]
	r, q := g.xtY.Dims()
	s := mat.NewDense(r, q, nil)
	for i := 0; i < r; i++ {
		l := g.vals[i]
		if l <= 1e-12*lmax || l+alpha <= 0 {
			continue
		}
		f := 1 / (l + alpha)
		src, dst := g.xtY.RawRowView(i), s.RawRowView(i)
		for j := range dst {
			dst[j] = f * src[j]
		}
	}
	var c mat.Dense
	c.Mul(g.vecs, s)
	if !g.kernel {
		return &c
	}
	var out mat.Dense
	out.Mul(g.xc.T(), &c)
	return &out
}

// FitRidge fits ridge regression with an unpenalised intercept (scikit-learn's Ridge(alpha,
// fit_intercept=True)): minimise |Yc - Xc B|² + alpha |B|², solved through the eigendecomposition
// of the smaller of XcᵀXc and XcXcᵀ (the n x n kernel when features exceed stimuli).
func FitRidge(X, Y *mat.Dense, alpha float64) (*Linear, error) {
	if _, _, _, err := checkXY(X, Y); err != nil {
		return nil, err
	}
	if alpha < 0 || math.IsNaN(alpha) {
		return nil, fmt.Errorf("regression: ridge penalty %v is negative", alpha)
	}
	g, err := newGramEig(X, Y)
	if err != nil {
		return nil, err
	}
	return &Linear{Coef: g.coef(alpha), XMean: g.xMean, YMean: g.yMean, Alpha: alpha}, nil
}

// FitOLS fits ordinary least squares with intercept: ridge with alpha = 0, the minimum-norm
// solution when X is rank deficient.
func FitOLS(X, Y *mat.Dense) (*Linear, error) { return FitRidge(X, Y, 0) }

// LogGrid returns k penalties spaced evenly in log10 from 10^lo to 10^hi.
func LogGrid(lo, hi float64, k int) []float64 {
	out := make([]float64, k)
	for i := range out {
		e := lo
		if k > 1 {
			e = lo + (hi-lo)*float64(i)/float64(k-1)
		}
		out[i] = math.Pow(10, e)
	}
	return out
}

// DefaultAlphas is the penalty grid FitRidgeCV uses when given none: 10^-3 .. 10^6, 19 values.
var DefaultAlphas = LogGrid(-3, 6, 19)

// FitRidgeCV chooses the ridge penalty from alphas (DefaultAlphas when nil) by inner K-fold
// cross-validation (innerFolds, default 5, seeded shuffle) minimising the held-out squared error
// summed over neuroids, then refits on all of X with it. Each inner fold needs one
// eigendecomposition; every penalty reuses it.
func FitRidgeCV(X, Y *mat.Dense, alphas []float64, innerFolds int, seed uint64) (*Linear, error) {
	n, _, q, err := checkXY(X, Y)
	if err != nil {
		return nil, err
	}
	if alphas == nil {
		alphas = DefaultAlphas
	}
	if len(alphas) == 0 {
		return nil, fmt.Errorf("regression: empty penalty grid")
	}
	if innerFolds <= 0 {
		innerFolds = 5
	}
	if len(alphas) > 1 {
		folds, err := KFold(n, innerFolds, nil, seed)
		if err != nil {
			return nil, fmt.Errorf("regression: inner cross-validation: %w", err)
		}
		sse := make([]float64, len(alphas))
		for _, test := range folds {
			train := complement(n, test)
			xtr, ytr := rows(X, train), rows(Y, train)
			xte, yte := rows(X, test), rows(Y, test)
			g, err := newGramEig(xtr, ytr)
			if err != nil {
				return nil, err
			}
			for ai, a := range alphas {
				pred, _ := predictLinear(xte, g.coef(a), g.xMean, g.yMean)
				for i := range test {
					for j := 0; j < q; j++ {
						d := pred.At(i, j) - yte.At(i, j)
						sse[ai] += d * d
					}
				}
			}
		}
		best := 0
		for ai := range sse {
			if sse[ai] < sse[best] {
				best = ai
			}
		}
		alphas = alphas[best : best+1]
	}
	return FitRidge(X, Y, alphas[0])
}
