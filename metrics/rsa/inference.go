package rsa

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// Ceiling is a noise ceiling: the range in which the true model's expected score lies.
type Ceiling struct {
	Lower, Upper float64
}

// pool averages dissimilarity vectors after the transform that makes the average the best
// estimate for method m (as rsatoolbox's pool_rdm): ranks for Spearman and tau-a (each vector is
// rank-transformed with average ranks, then the ranks are averaged), centring and scaling to unit
// norm for Pearson, scaling to unit norm for cosine.
func pool(vecs [][]float64, m Method) []float64 {
	out := make([]float64, len(vecs[0]))
	for _, v := range vecs {
		t := transform(v, m)
		for k := range out {
			out[k] += t[k]
		}
	}
	for k := range out {
		out[k] /= float64(len(vecs))
	}
	return out
}

func transform(v []float64, m Method) []float64 {
	switch m {
	case Spearman, KendallTauA:
		return stats.Ranks(v)
	case Pearson, CosineSim:
		t := append([]float64(nil), v...)
		if m == Pearson {
			var mean float64
			for _, x := range t {
				mean += x
			}
			mean /= float64(len(t))
			for k := range t {
				t[k] -= mean
			}
		}
		var ss float64
		for _, x := range t {
			ss += x * x
		}
		if ss > 0 {
			s := 1 / math.Sqrt(ss)
			for k := range t {
				t[k] *= s
			}
		}
		return t
	}
	return v
}

// NoiseCeiling estimates the noise ceiling of Nili et al. 2014 from subjects' RDMs of the same
// stimuli. Upper bound: the mean over subjects of the similarity between each subject's RDM and
// the pooled RDM of all subjects (which includes that subject, so it overfits). Lower bound: the
// same with the pooled RDM of the other subjects (leave one subject out). Pooling follows the
// comparison method (see pool: rank-transform before averaging for Spearman and tau-a; z-scoring
// for Pearson; unit norm for cosine).
func NoiseCeiling(subjects []*RDM, m Method) (Ceiling, error) {
	if len(subjects) < 2 {
		return Ceiling{}, fmt.Errorf("rsa: noise ceiling needs at least 2 subjects, got %d", len(subjects))
	}
	vecs, err := vectors(subjects)
	if err != nil {
		return Ceiling{}, err
	}
	if _, err := Compare(subjects[0], subjects[1], m); err != nil {
		return Ceiling{}, err
	}
	return ceilingOf(vecs, m), nil
}

func ceilingOf(vecs [][]float64, m Method) Ceiling {
	all := pool(vecs, m)
	var c Ceiling
	others := make([][]float64, 0, len(vecs)-1)
	for s, v := range vecs {
		c.Upper += CompareVectors(all, v, m)
		others = others[:0]
		for t, w := range vecs {
			if t != s {
				others = append(others, w)
			}
		}
		c.Lower += CompareVectors(pool(others, m), v, m)
	}
	c.Upper /= float64(len(vecs))
	c.Lower /= float64(len(vecs))
	return c
}

func vectors(rdms []*RDM) ([][]float64, error) {
	if len(rdms) == 0 {
		return nil, fmt.Errorf("rsa: no reference RDMs")
	}
	out := make([][]float64, len(rdms))
	for s, r := range rdms {
		if r == nil {
			return nil, fmt.Errorf("rsa: reference RDM %d is nil", s)
		}
		if r.n != rdms[0].n {
			return nil, fmt.Errorf("rsa: RDM %d has %d stimuli, RDM 0 has %d", s, r.n, rdms[0].n)
		}
		out[s] = r.vec
	}
	return out, nil
}

// BootOptions configures Bootstrap and BootstrapTest.
type BootOptions struct {
	Samples  int    // bootstrap samples; default 1000
	Seed     uint64 // sample b draws from PCG(Seed, b), so results do not depend on scheduling
	Subjects bool   // also resample the reference subjects with replacement
	Stimuli  *bool  // resample stimuli; default true
	Workers  int    // goroutines; default 2
}

// BootResult is a bootstrap distribution of a score.
type BootResult struct {
	Estimate float64   // the score on the original data
	Samples  []float64 // one score per bootstrap sample (NaN where undefined)
	Valid    int       // number of non-NaN samples
	Mean, SD float64   // over the valid samples
	CILow    float64   // 2.5th percentile of the valid samples
	CIHigh   float64   // 97.5th percentile
}

// BootTest is a bootstrap comparison of two models against the same reference.
type BootTest struct {
	A, B *BootResult
	Diff *BootResult // distribution of score(A) - score(B) on the same resamples
	// P is the two-sided bootstrap p of "A and B score the same": twice the smaller of the
	// fractions of differences <= 0 and >= 0, each counted as (k+1)/(B+1) over B valid samples
	// so that a finite bootstrap never reports p = 0 (Davison and Hinkley 1997; the smallest p
	// is 2/(B+1)), at most 1.
	P float64
}

// Bootstrap estimates the sampling distribution of the similarity between model and the pooled
// reference RDMs (subjects; one is fine) under method m. Each sample draws n stimuli with
// replacement and keeps every pair of draws (a<b) except pairs that drew the same stimulus (the
// diagonal of the resampled RDM, which rsatoolbox sets to NaN and drops); with Subjects it also
// draws subjects with replacement. The CI is the percentile 95% interval.
func Bootstrap(model *RDM, refs []*RDM, m Method, opt BootOptions) (*BootResult, error) {
	t, err := bootstrap([]*RDM{model}, refs, m, opt)
	if err != nil {
		return nil, err
	}
	return t[0], nil
}

// BootstrapTest bootstraps models A and B on the same resamples and tests their difference.
func BootstrapTest(a, b *RDM, refs []*RDM, m Method, opt BootOptions) (*BootTest, error) {
	r, err := bootstrap([]*RDM{a, b}, refs, m, opt)
	if err != nil {
		return nil, err
	}
	d := make([]float64, len(r[0].Samples))
	var le, ge, valid int
	for k := range d {
		d[k] = r[0].Samples[k] - r[1].Samples[k]
		if math.IsNaN(d[k]) {
			continue
		}
		valid++
		if d[k] <= 0 {
			le++
		}
		if d[k] >= 0 {
			ge++
		}
	}
	diff := summarise(r[0].Estimate-r[1].Estimate, d)
	p := math.NaN()
	if valid > 0 {
		p = math.Min(1, 2*float64(min(le, ge)+1)/float64(valid+1))
	}
	return &BootTest{A: r[0], B: r[1], Diff: diff, P: p}, nil
}

func bootstrap(models []*RDM, refs []*RDM, m Method, opt BootOptions) ([]*BootResult, error) {
	vecs, err := vectors(refs)
	if err != nil {
		return nil, err
	}
	n := refs[0].n
	for i, md := range models {
		if md == nil || md.n != n {
			return nil, fmt.Errorf("rsa: model %d is nil or its size differs from the references' %d stimuli", i, n)
		}
	}
	if _, err := Compare(models[0], refs[0], m); err != nil {
		return nil, err
	}
	if opt.Samples <= 0 {
		opt.Samples = 1000
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	stim := opt.Stimuli == nil || *opt.Stimuli
	if !stim && !opt.Subjects {
		return nil, fmt.Errorf("rsa: bootstrap resamples neither stimuli nor subjects")
	}
	// Sort orders of every vector once; a resample then ranks in O(pairs) by walking them.
	rankBased := m == Spearman || m == KendallTauA
	var refOrder, modelOrder [][]int
	if rankBased {
		for _, v := range vecs {
			refOrder = append(refOrder, sortOrder(v))
		}
		for _, md := range models {
			modelOrder = append(modelOrder, sortOrder(md.vec))
		}
	}
	samples := make([][]float64, len(models))
	for i := range models {
		samples[i] = make([]float64, opt.Samples)
	}
	M := n * (n - 1) / 2
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			count := make([]float64, n)
			wt := make([]float64, M) // multiplicity of each pair in the resample
			pooled := make([]float64, M)
			tmp := make([]float64, M)
			mv := make([]float64, M)
			pr := make([]float64, M)
			active := make([]int, 0, M)
			order := make([]int, 0, M)
			kbuf := make([]keyed, 0, M)
			subj := make([]int, len(vecs))
			for b := w; b < opt.Samples; b += opt.Workers {
				rng := rand.New(rand.NewPCG(opt.Seed, uint64(b)))
				for i := range count {
					count[i] = 0
				}
				for i := 0; i < n; i++ {
					if stim {
						count[rng.IntN(n)]++
					} else {
						count[i]++
					}
				}
				for s := range subj {
					if opt.Subjects {
						subj[s] = rng.IntN(len(vecs))
					} else {
						subj[s] = s
					}
				}
				// Pairs of draws (a<b) that drew stimuli i<j occur count[i]*count[j] times;
				// pairs that drew the same stimulus are dropped.
				active = active[:0]
				c := 0
				for i := 0; i < n; i++ {
					for j := i + 1; j < n; j++ {
						wt[c] = count[i] * count[j]
						if wt[c] > 0 {
							active = append(active, c)
						}
						c++
					}
				}
				for _, c := range active {
					pooled[c] = 0
				}
				for _, s := range subj {
					if rankBased {
						weightedRanks(vecs[s], refOrder[s], wt, tmp)
					} else {
						weightedNormalise(vecs[s], wt, active, m == Pearson, tmp)
					}
					for _, c := range active {
						pooled[c] += tmp[c]
					}
				}
				inv := 1 / float64(len(subj))
				for _, c := range active {
					pooled[c] *= inv
				}
				switch m {
				case Spearman:
					order = sortActive(pooled, active, kbuf, order)
					weightedRanks(pooled, order, wt, pr)
					for mi := range models {
						weightedRanks(models[mi].vec, modelOrder[mi], wt, mv)
						samples[mi][b] = weightedCorr(mv, pr, wt, active, true)
					}
				case Pearson, CosineSim:
					for mi := range models {
						samples[mi][b] = weightedCorr(models[mi].vec, pooled, wt, active, m == Pearson)
					}
				case KendallTauA:
					for mi := range models {
						x, y := expand(models[mi].vec, pooled, wt, active)
						samples[mi][b] = TauA(x, y)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	ref := pool(vecs, m)
	res := make([]*BootResult, len(models))
	for mi, md := range models {
		res[mi] = summarise(CompareVectors(md.vec, ref, m), samples[mi])
	}
	return res, nil
}

func sortOrder(v []float64) []int {
	o := make([]int, len(v))
	for i := range o {
		o[i] = i
	}
	slices.SortFunc(o, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
	return o
}

func sortActive(v []float64, active []int, buf []keyed, out []int) []int {
	buf = buf[:0]
	for _, c := range active {
		buf = append(buf, keyed{v[c], c})
	}
	slices.SortFunc(buf, func(a, b keyed) int { return cmp.Compare(a.v, b.v) })
	out = out[:0]
	for _, k := range buf {
		out = append(out, k.c)
	}
	return out
}

type keyed struct {
	v float64
	c int
}

// weightedRanks writes into out[c] the average rank that entry c of v gets in the vector where
// entry c appears wt[c] times (entries with wt 0 are skipped); order sorts v ascending.
func weightedRanks(v []float64, order []int, wt, out []float64) {
	pos := 0.0
	for i := 0; i < len(order); {
		j := i
		var W float64
		for j < len(order) && v[order[j]] == v[order[i]] {
			W += wt[order[j]]
			j++
		}
		r := pos + (W+1)/2
		for k := i; k < j; k++ {
			out[order[k]] = r
		}
		pos += W
		i = j
	}
}

// weightedNormalise writes v's entries scaled (after centring, when centre) to unit weighted norm.
func weightedNormalise(v, wt []float64, active []int, centre bool, out []float64) {
	var mean, W float64
	if centre {
		for _, c := range active {
			mean += wt[c] * v[c]
			W += wt[c]
		}
		mean /= W
	}
	var ss float64
	for _, c := range active {
		d := v[c] - mean
		ss += wt[c] * d * d
	}
	s := 1.0
	if ss > 0 {
		s = 1 / math.Sqrt(ss)
	}
	for _, c := range active {
		out[c] = (v[c] - mean) * s
	}
}

// weightedCorr is the Pearson correlation (centre) or cosine similarity of x and y where entry c
// appears wt[c] times.
func weightedCorr(x, y, wt []float64, active []int, centre bool) float64 {
	var mx, my, W float64
	if centre {
		for _, c := range active {
			mx += wt[c] * x[c]
			my += wt[c] * y[c]
			W += wt[c]
		}
		mx /= W
		my /= W
	}
	var sxy, sxx, syy float64
	for _, c := range active {
		dx, dy := x[c]-mx, y[c]-my
		sxy += wt[c] * dx * dy
		sxx += wt[c] * dx * dx
		syy += wt[c] * dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

func expand(x, y, wt []float64, active []int) ([]float64, []float64) {
	var ex, ey []float64
	for _, c := range active {
		for k := 0; k < int(wt[c]); k++ {
			ex = append(ex, x[c])
			ey = append(ey, y[c])
		}
	}
	return ex, ey
}

func summarise(est float64, samples []float64) *BootResult {
	r := &BootResult{Estimate: est, Samples: samples}
	var ok []float64
	for _, v := range samples {
		if !math.IsNaN(v) {
			ok = append(ok, v)
		}
	}
	r.Valid = len(ok)
	if len(ok) == 0 {
		r.Mean, r.SD, r.CILow, r.CIHigh = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return r
	}
	for _, v := range ok {
		r.Mean += v
	}
	r.Mean /= float64(len(ok))
	if len(ok) > 1 {
		var ss float64
		for _, v := range ok {
			ss += (v - r.Mean) * (v - r.Mean)
		}
		r.SD = math.Sqrt(ss / float64(len(ok)-1))
	}
	r.CILow = stats.Percentile(ok, 2.5)
	r.CIHigh = stats.Percentile(ok, 97.5)
	return r
}
