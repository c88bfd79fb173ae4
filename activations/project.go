package activations

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
	"gonum.org/v1/gonum/mat"
)

// Projection caps the number of features per layer. Layers with at most K features are
// returned unprojected.
type Projection struct {
	// Method is "" (none), "random" (seeded Gaussian random projection), "sketch" (seeded
	// signed feature hashing: each feature is added, with a random sign, to one of K outputs;
	// inner products are preserved in expectation and the projection costs O(F) memory, where a
	// Gaussian matrix of a 224-pixel network's early layer would take gigabytes) or "pca".
	Method string
	// K is the number of output features.
	K int
	// Seed drives the random projection matrix.
	Seed uint64
	// Fit is the stimulus set a PCA is fitted on (its images go through the same
	// preprocessing and model); nil means the extracted set itself.
	Fit *stimuli.Set
	// FitN uses only the first FitN stimuli of the fit set (0: all of Fit, or the first
	// min(1000, Len) of the extracted set when Fit is nil).
	FitN int
}

func (p Projection) validate() error {
	switch p.Method {
	case "":
		return nil
	case "random", "pca", "sketch":
		if p.K <= 0 {
			return fmt.Errorf("activations: %s projection needs K > 0, got %d", p.Method, p.K)
		}
		return nil
	}
	return fmt.Errorf("activations: unknown projection method %q (random, sketch or pca)", p.Method)
}

// projector maps rows of F features to K.
type projector struct {
	f, k   int
	m      []float32 // F x K
	offset []float32 // K, subtracted after multiplying (PCA: mean . V)
	// A sketch has no matrix: feature j goes to output bucket[j] with sign sign[j].
	bucket []int32
	sign   []float32
}

// sketchProjector hashes F features into K signed buckets (Weinberger et al. 2009, feature
// hashing; a sparse Johnson-Lindenstrauss transform with one non-zero per feature). The sum
// y[b] = sum over features j in bucket b of sign_j x_j keeps inner products unbiased.
func sketchProjector(f, k int, seed uint64) *projector {
	rng := rand.New(rand.NewPCG(seed, 0x5ce7c4ba11a5e7ed))
	p := &projector{f: f, k: k, bucket: make([]int32, f), sign: make([]float32, f)}
	for j := range p.bucket {
		p.bucket[j] = int32(rng.IntN(k))
		p.sign[j] = float32(1 - 2*int(rng.Uint64()&1))
	}
	return p
}

// apply projects n rows of x (n x F) into out (n x K).
func (p *projector) apply(x []float32, n int, out []float32) {
	if p.bucket != nil {
		for i := 0; i < n; i++ {
			row, o := x[i*p.f:(i+1)*p.f], out[i*p.k:(i+1)*p.k]
			clear(o)
			for j, v := range row {
				o[p.bucket[j]] += p.sign[j] * v
			}
		}
		return
	}
	tensor.Sgemm(false, false, n, p.k, p.f, 1, x, p.f, p.m, p.k, 0, out, p.k)
	if p.offset != nil {
		for i := 0; i < n; i++ {
			r := out[i*p.k : (i+1)*p.k]
			for j := range r {
				r[j] -= p.offset[j]
			}
		}
	}
}

// ProjectMatrix applies a random or sketch projection to activations computed elsewhere (a
// file of precomputed activations), giving exactly what Extract gives for the same features.
// A matrix with at most K columns, or no projection, is returned as it is. PCA needs the fit
// images and is refused.
func ProjectMatrix(m *Matrix, p Projection) (*Matrix, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.Method == "" || m.Cols <= p.K {
		return m, nil
	}
	var pr *projector
	switch p.Method {
	case "random":
		pr = randomProjector(m.Cols, p.K, p.Seed)
	case "sketch":
		pr = sketchProjector(m.Cols, p.K, p.Seed)
	default:
		return nil, fmt.Errorf("activations: a %s projection cannot be applied to precomputed activations (use random or sketch)", p.Method)
	}
	out := &Matrix{Rows: m.Rows, Cols: p.K, Data: make([]float32, m.Rows*p.K)}
	pr.apply(m.Data, m.Rows, out.Data)
	return out, nil
}

// randomProjector draws an F x K matrix of N(0, 1/K) entries from a PCG stream seeded by
// seed, so that squared distances are preserved in expectation (Johnson-Lindenstrauss).
func randomProjector(f, k int, seed uint64) *projector {
	rng := rand.New(rand.NewPCG(seed, 0x5eed0f7a11d9e5a1))
	m := make([]float32, f*k)
	s := 1 / math.Sqrt(float64(k))
	for i := range m {
		m[i] = float32(rng.NormFloat64() * s)
	}
	return &projector{f: f, k: k, m: m}
}

// pcaProjector fits a PCA on the rows of x (n x F, centred in place) and returns the projection onto the top k
// principal axes (scores, not whitened). It works on the n x n Gram matrix, so F may be large;
// axes beyond the data's rank (eigenvalue below 1e-10 of the largest) are zero. Each axis's sign
// is fixed so that its largest-magnitude loading is positive.
func pcaProjector(x []float32, n, f, k int) (*projector, error) {
	if n < 2 {
		return nil, fmt.Errorf("activations: PCA needs at least 2 fit stimuli, got %d", n)
	}
	if k > n {
		return nil, fmt.Errorf("activations: PCA with K=%d needs at least %d fit stimuli, got %d", k, k, n)
	}
	mean := make([]float64, f)
	for i := 0; i < n; i++ {
		for j, v := range x[i*f : (i+1)*f] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	xc := x // centred in place: the caller's fit rows are not needed afterwards
	for i := 0; i < n; i++ {
		for j, v := range x[i*f : (i+1)*f] {
			xc[i*f+j] = float32(float64(v) - mean[j])
		}
	}
	gram := make([]float32, n*n)
	tensor.Sgemm(false, true, n, n, f, 1, xc, f, xc, f, 0, gram, n)
	g := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			g.SetSym(i, j, (float64(gram[i*n+j])+float64(gram[j*n+i]))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(g, true) {
		return nil, fmt.Errorf("activations: PCA eigendecomposition failed")
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := vals[n-1]
	// u: n x k, column c = eigenvector of the c-th largest eigenvalue / sqrt(lambda).
	u := make([]float32, n*k)
	for c := 0; c < k; c++ {
		col := n - 1 - c
		l := vals[col]
		if l <= 1e-10*top || l <= 0 {
			continue
		}
		s := 1 / math.Sqrt(l)
		for i := 0; i < n; i++ {
			u[i*k+c] = float32(vecs.At(i, col) * s)
		}
	}
	m := make([]float32, f*k)
	tensor.Sgemm(true, false, f, k, n, 1, xc, f, u, k, 0, m, k)
	for c := 0; c < k; c++ {
		best, sign := float32(0), float32(1)
		for j := 0; j < f; j++ {
			if v := m[j*k+c]; abs32(v) > best {
				best = abs32(v)
				sign = 1
				if v < 0 {
					sign = -1
				}
			}
		}
		if sign < 0 {
			for j := 0; j < f; j++ {
				m[j*k+c] = -m[j*k+c]
			}
		}
	}
	off := make([]float32, k)
	for c := 0; c < k; c++ {
		var s float64
		for j := 0; j < f; j++ {
			s += mean[j] * float64(m[j*k+c])
		}
		off[c] = float32(s)
	}
	return &projector{f: f, k: k, m: m, offset: off}, nil
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
