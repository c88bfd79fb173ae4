// Package regression maps model features to neural responses and scores the mapping by
// cross-validated prediction, as in Yamins et al. 2014 (PNAS 111:8619) and Brain-Score (Schrimpf
// et al. 2018, bioRxiv 407007): PLS regression (Wold et al. 1984; the PLS2 of scikit-learn's
// PLSRegression, computed with the improved kernel algorithm of Dayal & MacGregor 1997, J.
// Chemometrics 11:73), ridge regression with its penalty chosen by inner cross-validation (Hoerl &
// Kennard 1970), ordinary least squares, and K-fold cross-validation with Pearson r per neuroid.
//
// Matrices are stimuli x features (X) and stimuli x neuroids (Y), float64, as *mat.Dense.
package regression

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// PLS is a fitted PLS2 regression. Predictions are Ŷ = (X - XMean) Coef + YMean.
type PLS struct {
	Components  int        // components actually extracted (fewer than asked if X's rank ran out)
	Scale       bool       // X and Y were scaled to unit variance (ddof 1) before fitting
	XMean, XStd []float64  // per feature; XStd is 1 when not scaling or for constant features
	YMean, YStd []float64  // per neuroid
	Weights     *mat.Dense // x weights W (features x components), unit norm, in scaled units
	Loadings    *mat.Dense // x loadings P (features x components)
	YLoadings   *mat.Dense // y loadings Q (neuroids x components)
	Rotations   *mat.Dense // R = W (PᵀW)⁻¹ (features x components): scores T = Xs R
	CoefScaled  *mat.Dense // R Qᵀ scaled by YStd: scikit-learn's coef_ (features x neuroids) in 1.2
	Coef        *mat.Dense // features x neuroids in original units
}

// FitPLS fits PLS2 regression with the given number of components (scikit-learn's
// PLSRegression(n_components, scale) with its default NIPALS replaced by the equivalent improved
// kernel PLS of Dayal & MacGregor 1997, algorithm 1): X and Y are centred (and, with scale,
// divided by their sample standard deviations); for each component the x weight w is the
// dominant left singular vector of the deflated cross-product XᵀY (the vector NIPALS' inner loop
// converges to), r = w - Σ (p_jᵀw) r_j, t = X r, p = Xᵀt/(tᵀt), q = (XᵀY)ᵀr/(tᵀt), and XᵀY is
// deflated by (tᵀt) p qᵀ. X itself is never deflated and XᵀX never formed: the only products with
// X are one GEMM for XᵀY and two matrix-vector products per component. Signs follow scikit-learn
// (largest |w| positive). Returns an error for NaN, too few stimuli or a shape mismatch.
func FitPLS(X, Y *mat.Dense, components int, scale bool) (*PLS, error) {
	n, p, q, err := checkXY(X, Y)
	if err != nil {
		return nil, err
	}
	if components < 1 {
		return nil, fmt.Errorf("regression: PLS needs at least 1 component, got %d", components)
	}
	if n < 2 {
		return nil, fmt.Errorf("regression: PLS needs at least 2 stimuli, got %d", n)
	}
	if components > p {
		return nil, fmt.Errorf("regression: PLS with %d components but only %d features", components, p)
	}
	m := &PLS{Scale: scale}
	var xs, ys *mat.Dense
	xs, m.XMean, m.XStd = standardise(X, scale)
	ys, m.YMean, m.YStd = standardise(Y, scale)
	var xty mat.Dense
	xty.Mul(xs.T(), ys) // p x q
	W := mat.NewDense(p, components, nil)
	P := mat.NewDense(p, components, nil)
	Q := mat.NewDense(q, components, nil)
	R := mat.NewDense(p, components, nil)
	w := make([]float64, p)
	r := make([]float64, p)
	t := make([]float64, n)
	pv := make([]float64, p)
	qv := make([]float64, q)
	var norm0 float64
	var mm, vecs mat.Dense
	var eig mat.EigenSym
	sym := mat.NewSymDense(q, nil)
	a := 0
	for ; a < components; a++ {
		// w: dominant left singular vector of XᵀY.
		if q == 1 {
			mat.Col(w, 0, &xty)
		} else {
			// M = (XᵀY)ᵀ(XᵀY) is kept up to date by a rank-2 update after each deflation and
			// recomputed exactly every 5 components to stop rounding from accumulating.
			if a%5 == 0 {
				mm.Mul(xty.T(), &xty)
			}
			for i := 0; i < q; i++ {
				for j := i; j < q; j++ {
					sym.SetSym(i, j, (mm.At(i, j)+mm.At(j, i))/2)
				}
			}
			if !eig.Factorize(sym, true) {
				return nil, fmt.Errorf("regression: PLS component %d: eigendecomposition failed", a+1)
			}
			eig.VectorsTo(&vecs)
			c := mat.Col(nil, q-1, &vecs) // eigenvalues ascend
			wv := mat.NewVecDense(p, w)
			wv.MulVec(&xty, mat.NewVecDense(q, c))
		}
		nw := mat.Norm(mat.NewVecDense(p, w), 2)
		if a == 0 {
			norm0 = nw
		}
		if nw <= 1e-12*norm0 || nw == 0 {
			break // XᵀY exhausted: Y is explained as far as X allows
		}
		big := 0
		for i := range w {
			w[i] /= nw
			if math.Abs(w[i]) > math.Abs(w[big]) {
				big = i
			}
		}
		if w[big] < 0 {
			for i := range w {
				w[i] = -w[i]
			}
		}
		copy(r, w)
		for j := 0; j < a; j++ {
			var pw float64
			for i := 0; i < p; i++ {
				pw += P.At(i, j) * w[i]
			}
			for i := 0; i < p; i++ {
				r[i] -= pw * R.At(i, j)
			}
		}
		tv := mat.NewVecDense(n, t)
		tv.MulVec(xs, mat.NewVecDense(p, r))
		tt := mat.Dot(tv, tv)
		if tt <= 0 {
			break
		}
		pvv := mat.NewVecDense(p, pv)
		pvv.MulVec(xs.T(), tv)
		pvv.ScaleVec(1/tt, pvv)
		qvv := mat.NewVecDense(q, qv)
		qvv.MulVec(xty.T(), mat.NewVecDense(p, r))
		qvv.ScaleVec(1/tt, qvv)
		if q > 1 {
			// M' = M - tt (q aᵀ + a qᵀ) + tt² (pᵀp) q qᵀ with a = (XᵀY)ᵀp, before deflating XᵀY.
			av := mat.NewVecDense(q, nil)
			av.MulVec(xty.T(), pvv)
			pp := mat.Dot(pvv, pvv)
			for i := 0; i < q; i++ {
				row := mm.RawRowView(i)
				for j := range row {
					row[j] += -tt*(qv[i]*av.AtVec(j)+av.AtVec(i)*qv[j]) + tt*tt*pp*qv[i]*qv[j]
				}
			}
		}
		// XᵀY -= tt p qᵀ
		for i := 0; i < p; i++ {
			row := xty.RawRowView(i)
			f := tt * pv[i]
			for j := range row {
				row[j] -= f * qv[j]
			}
		}
		W.SetCol(a, w)
		P.SetCol(a, pv)
		Q.SetCol(a, qv)
		R.SetCol(a, r)
	}
	if a == 0 {
		return nil, fmt.Errorf("regression: PLS found no component: X or Y is constant")
	}
	m.Components = a
	m.Weights = mat.DenseCopyOf(W.Slice(0, p, 0, a))
	m.Loadings = mat.DenseCopyOf(P.Slice(0, p, 0, a))
	m.YLoadings = mat.DenseCopyOf(Q.Slice(0, q, 0, a))
	m.Rotations = mat.DenseCopyOf(R.Slice(0, p, 0, a))
	cs := mat.NewDense(p, q, nil)
	cs.Mul(m.Rotations, m.YLoadings.T())
	m.Coef = mat.NewDense(p, q, nil)
	for i := 0; i < p; i++ {
		for j := 0; j < q; j++ {
			v := cs.At(i, j) * m.YStd[j]
			cs.Set(i, j, v)
			m.Coef.Set(i, j, v/m.XStd[i])
		}
	}
	m.CoefScaled = cs
	return m, nil
}

// Predict returns Ŷ (stimuli x neuroids) for X (stimuli x features).
func (m *PLS) Predict(X *mat.Dense) (*mat.Dense, error) {
	return predictLinear(X, m.Coef, m.XMean, m.YMean)
}

func predictLinear(X, coef *mat.Dense, xMean, yMean []float64) (*mat.Dense, error) {
	n, p := X.Dims()
	cp, q := coef.Dims()
	if p != cp {
		return nil, fmt.Errorf("regression: predict with %d features, model has %d", p, cp)
	}
	// (X - xMean) Coef + yMean = X Coef + (yMean - xMeanᵀ Coef)
	off := make([]float64, q)
	copy(off, yMean)
	for i := 0; i < p; i++ {
		row := coef.RawRowView(i)
		for j := range off {
			off[j] -= xMean[i] * row[j]
		}
	}
	out := mat.NewDense(n, q, nil)
	out.Mul(X, coef)
	for i := 0; i < n; i++ {
		row := out.RawRowView(i)
		for j := range row {
			row[j] += off[j]
		}
	}
	return out, nil
}

func checkXY(X, Y *mat.Dense) (n, p, q int, err error) {
	if X == nil || Y == nil {
		return 0, 0, 0, fmt.Errorf("regression: nil X or Y")
	}
	n, p = X.Dims()
	ny, q := Y.Dims()
	if n != ny {
		return 0, 0, 0, fmt.Errorf("regression: X has %d stimuli but Y has %d", n, ny)
	}
	if i, j, bad := stats.HasNaN(X); bad {
		return 0, 0, 0, fmt.Errorf("regression: X has NaN or Inf at stimulus %d, feature %d", i, j)
	}
	if i, j, bad := stats.HasNaN(Y); bad {
		return 0, 0, 0, fmt.Errorf("regression: Y has NaN or Inf at stimulus %d, neuroid %d", i, j)
	}
	return n, p, q, nil
}

// standardise returns X centred (and scaled to unit sample sd, ddof 1, when scale; constant
// columns keep sd 1 as in scikit-learn) with the means and sds used.
func standardise(X *mat.Dense, scale bool) (*mat.Dense, []float64, []float64) {
	n, p := X.Dims()
	mean := make([]float64, p)
	sd := make([]float64, p)
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	out := mat.NewDense(n, p, nil)
	for i := 0; i < n; i++ {
		src, dst := X.RawRowView(i), out.RawRowView(i)
		for j, v := range src {
			d := v - mean[j]
			dst[j] = d
			sd[j] += d * d
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(n-1))
		if !scale || sd[j] == 0 {
			sd[j] = 1
		}
	}
	if scale {
		inv := make([]float64, p)
		for j := range inv {
			inv[j] = 1 / sd[j]
		}
		for i := 0; i < n; i++ {
			row := out.RawRowView(i)
			for j := range row {
				row[j] *= inv[j]
			}
		}
	}
	return out, mean, sd
}
