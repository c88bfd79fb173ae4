package benchmarks

import (
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/metrics/rsa"
	"github.com/ventral-lab/ventral/metrics/stats"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/subject"
)

// rsaCore compares upper-triangle RDM vectors under pair weights. A weight vector w over the
// P = S(S-1)/2 stimulus pairs expresses every resampling used here: all ones (all stimuli),
// ones inside a subset (the selection and held-out halves), or m_i*m_j for a bootstrap sample
// in which stimulus i was drawn m_i times (the pairs of the expanded sample, without pairs of
// a stimulus with its own copy). Spearman correlations on the expanded vectors equal weighted
// Pearson correlations of weighted average ranks (stats.WeightedRanksOrdered,
// stats.WeightedPearson), so each sample costs O(P) per comparison; Kendall's tau-a is
// rsa.WeightedTauA, O(P log P). With all weights 1 these are stats.Spearman, stats.Pearson and
// rsa.TauA. The noise ceiling pools the subjects' RDMs by their mean (as the spec's note says
// and as the figure-1 human IT RDM is made), not by the rank-then-average pooling of
// rsa.NoiseCeiling, and must be recomputed under each bootstrap sample's weights.
type rsaCore struct {
	S, P       int
	pi, pj     []int32
	comparison string
	targets    []vec // what model RDMs are compared with
	subjects   []vec // per-subject RDMs for the noise ceiling
	all        vec   // mean of the subjects
	loo        []vec // mean of the other subjects

	targetsAreSubjects bool
}

type vec struct {
	x     []float64
	order []int
}

func newVec(x []float64) vec { return vec{x: x, order: stats.SortOrder(x)} }

func newRSACore(S int, comparison string) *rsaCore {
	c := &rsaCore{S: S, P: S * (S - 1) / 2, comparison: comparison}
	for i := 0; i < S; i++ {
		for j := i + 1; j < S; j++ {
			c.pi = append(c.pi, int32(i))
			c.pj = append(c.pj, int32(j))
		}
	}
	return c
}

func (c *rsaCore) setSubjects(subj [][]float64) {
	n := len(subj)
	sum := make([]float64, c.P)
	for _, s := range subj {
		c.subjects = append(c.subjects, newVec(s))
		for p, v := range s {
			sum[p] += v
		}
	}
	all := make([]float64, c.P)
	for p := range all {
		all[p] = sum[p] / float64(n)
	}
	c.all = newVec(all)
	if n > 1 {
		for _, s := range subj {
			l := make([]float64, c.P)
			for p := range l {
				l[p] = (sum[p] - s[p]) / float64(n-1)
			}
			c.loo = append(c.loo, newVec(l))
		}
	}
}

// weights returns pair weights from per-stimulus counts.
func (c *rsaCore) weights(m []float64) []float64 {
	w := make([]float64, c.P)
	for p := range w {
		w[p] = m[c.pi[p]] * m[c.pj[p]]
	}
	return w
}

// subsetCounts returns counts 1 for the stimuli in idx, 0 elsewhere.
func subsetCounts(S int, idx []int) []float64 {
	m := make([]float64, S)
	for _, i := range idx {
		m[i] = 1
	}
	return m
}

// sample holds the comparison-ready forms (weighted ranks for Spearman) of the targets and
// subject RDMs under one weight vector, so each is transformed once per sample, not per layer.
type sample struct {
	w        []float64
	targets  [][]float64
	subjects [][]float64
	all      []float64
	loo      [][]float64
	buf      []float64
}

func (c *rsaCore) transform(v vec, w []float64, out []float64) []float64 {
	if c.comparison != "spearman" {
		return v.x
	}
	if out == nil {
		out = make([]float64, c.P)
	}
	stats.WeightedRanksOrdered(out, v.x, w, v.order)
	return out
}

func (c *rsaCore) newSample(w []float64, ceiling bool) *sample {
	s := &sample{w: w, buf: make([]float64, c.P)}
	for _, sv := range c.subjects {
		s.subjects = append(s.subjects, c.transform(sv, w, nil))
	}
	if ceiling {
		s.all = c.transform(c.all, w, nil)
		for _, l := range c.loo {
			s.loo = append(s.loo, c.transform(l, w, nil))
		}
	}
	if c.targetsAreSubjects {
		s.targets = s.subjects
	} else {
		for _, t := range c.targets {
			s.targets = append(s.targets, c.transform(t, w, nil))
		}
	}
	return s
}

func (c *rsaCore) corr(a, b, w []float64) float64 {
	if c.comparison == "kendall_tau_a" {
		return rsa.WeightedTauA(a, b, w)
	}
	return stats.WeightedPearson(a, b, w)
}

// score is the mean comparison of the model vector with the targets.
func (c *rsaCore) score(m vec, s *sample) float64 {
	mx := c.transform(m, s.w, s.buf)
	var sum float64
	for _, t := range s.targets {
		sum += c.corr(mx, t, s.w)
	}
	return sum / float64(len(s.targets))
}

// ceiling returns the Nili et al. (2014) lower and upper bounds.
func (c *rsaCore) ceiling(s *sample) (lower, upper float64) {
	for k, sv := range s.subjects {
		upper += c.corr(sv, s.all, s.w)
		lower += c.corr(sv, s.loo[k], s.w)
	}
	n := float64(len(s.subjects))
	return lower / n, upper / n
}

func scoreRSA(model subject.Model, bench *Spec, layers []string, opts Options, B int, res *Result) error {
	set, err := bench.StimulusSet("")
	if err != nil {
		return err
	}
	ids := set.IDs()
	S := len(ids)
	if S < 4 {
		return fmt.Errorf("%w: rsa needs at least 4 stimuli, have %d", ErrTooFewStimuli, S)
	}
	ref, err := bench.loadRDMs(&bench.Data, ids, res)
	if err != nil {
		return err
	}
	c := newRSACore(S, bench.Metric.Comparison)
	hasCeil := bench.Ceiling.Type == "rsa-noise-ceiling"
	if hasCeil {
		subj, err := bench.loadRDMs(bench.Ceiling.Data, ids, res)
		if err != nil {
			return err
		}
		vs, err := ceilingUnits(subj, bench.Ceiling.Unit)
		if err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
		if len(vs) < 2 {
			return fmt.Errorf("ceiling: the noise ceiling needs at least 2 %ss, have %d", bench.Ceiling.Unit, len(vs))
		}
		c.setSubjects(vs)
		res.Ceiling.Unit, res.Ceiling.Units = bench.Ceiling.Unit, len(vs)
	}
	if bench.Metric.Target == "subjects" {
		c.targets = c.subjects
		c.targetsAreSubjects = true
	} else {
		for i := range ref.RDMs {
			c.targets = append(c.targets, newVec(ref.UpperTriangle(i)))
		}
	}
	if bench.Ceiling.Type == "split-half" {
		return fmt.Errorf("ceiling split-half for rsa is not implemented yet")
	}
	for i, t := range c.targets {
		if constant(t.x) {
			name := ref.Name
			if c.targetsAreSubjects {
				name = fmt.Sprintf("%s of the ceiling data", bench.Ceiling.Unit)
			} else if i < len(ref.Names) {
				name = ref.Names[i]
			}
			return fmt.Errorf("the data RDM %s (%d of %d) is constant (%v for every pair of stimuli): no model can correlate with it; check the data file", name, i+1, len(c.targets), t.x[0])
		}
	}

	// Each layer is reduced to its RDM as soon as its activations arrive, so memory holds one
	// group of layers' activations, not the whole network's.
	models := make([]vec, len(layers))
	err = extractGroups(model, set, layers, opts, bench.projection(opts.Seed), res, func(first int, feats []*activations.Matrix) error {
		parallel(len(feats), func(i int) {
			f := feats[i]
			d := featureRDM(f.Data, f.Rows, f.Cols, bench.Metric.RDMDistance)
			up := make([]float64, 0, c.P)
			for a := 0; a < S; a++ {
				up = append(up, d[a*S+a+1:(a+1)*S]...)
			}
			models[first+i] = newVec(up)
		})
		return nil
	})
	if err != nil {
		return err
	}

	ones := c.newSample(c.weights(subsetCounts(S, identity(S))), hasCeil)
	full := make([]float64, len(layers))
	for i := range layers {
		full[i] = c.score(models[i], ones)
	}
	var lower, upper float64
	if hasCeil {
		lower, upper = c.ceiling(ones)
		res.Ceiling.Lower, res.Ceiling.Upper, res.Ceiling.Value = lower, upper, upper
		res.Formula = "normalised = raw / ceiling upper bound"
	} else {
		res.Formula = "no ceiling: raw scores"
	}

	// Layer selection on one half of the stimuli, scored on the other.
	ha, hb := halves(S, opts.Seed)
	wa := c.newSample(c.weights(subsetCounts(S, ha)), false)
	wb := c.newSample(c.weights(subsetCounts(S, hb)), hasCeil)
	sel := make([]float64, len(layers))
	for i := range layers {
		sel[i] = c.score(models[i], wa)
	}
	best, _ := bestTwo(sel)
	if best < 0 {
		return fmt.Errorf("no layer gives a finite score: every layer's responses are constant across the stimuli (an untrained or dead network?)")
	}
	res.BestLayer = layers[best]
	res.Selection = fmt.Sprintf("chosen on %d of %d stimuli (seeded split), scored on the other %d", len(ha), S, len(hb))
	res.HeldOut = c.score(models[best], wb)
	if hasCeil {
		_, ub := c.ceiling(wb)
		res.HeldOutNormalized = ptr(res.HeldOut / ub)
	}
	res.HeldOutResampling = fmt.Sprintf("the %d held-out stimuli", len(hb))
	res.HeldOutSamples = make([]float64, B)
	parallel(B, func(b int) {
		res.HeldOutSamples[b] = c.score(models[best], c.newSample(c.weights(heldOutCounts(S, hb, opts.Seed, b)), false))
	})

	// Bootstrap over stimuli.
	boot := make([][]float64, len(layers)) // [layer][b]
	bootN := make([][]float64, len(layers))
	for i := range boot {
		boot[i] = make([]float64, B)
		bootN[i] = make([]float64, B)
	}
	parallel(B, func(b int) {
		s := c.newSample(c.weights(sampleCounts(S, opts.Seed, b)), hasCeil)
		ub := math.NaN()
		if hasCeil {
			_, ub = c.ceiling(s)
		}
		for i := range layers {
			v := c.score(models[i], s)
			boot[i][b] = v
			bootN[i][b] = v / ub
		}
	})
	for i, l := range layers {
		ls := LayerScore{Layer: l, Score: full[i], Selection: sel[i]}
		ls.CILow, ls.CIHigh = full[i], full[i]
		if B > 0 {
			ls.CILow, ls.CIHigh = ciOf(boot[i])
		}
		if hasCeil {
			ls.Normalized = ptr(full[i] / upper)
			if B > 0 {
				lo, hi := ciOf(bootN[i])
				ls.NormCILow, ls.NormCIHigh = ptr(lo), ptr(hi)
			}
		}
		res.Layers = append(res.Layers, ls)
	}
	setBestVsSecond(res, full, boot, layers, B)
	return nil
}

// constant reports whether every value of x equals the first.
func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// ceilingUnits returns the upper triangles of the noise ceiling's units: each RDM (unit rdm
// or session), or each subject's RDMs averaged (unit subject, grouped by the set's subject
// metadata in order of first appearance), so that the lower bound leaves a whole subject out.
func ceilingUnits(set *neural.RDMSet, unit string) ([][]float64, error) {
	if unit != "rdm" && len(set.Meta[unit]) != set.Len() {
		return nil, fmt.Errorf("unit %s: RDM set %s has no %s of each RDM (give the file's dim_names)", unit, set.Name, unit)
	}
	if unit != "subject" {
		out := make([][]float64, set.Len())
		for i := range out {
			out[i] = set.UpperTriangle(i)
		}
		return out, nil
	}
	var order []string
	members := map[string][]int{}
	for i, s := range set.Meta["subject"] {
		if _, ok := members[s]; !ok {
			order = append(order, s)
		}
		members[s] = append(members[s], i)
	}
	out := make([][]float64, len(order))
	for k, s := range order {
		var mean []float64
		for _, i := range members[s] {
			u := set.UpperTriangle(i)
			if mean == nil {
				mean = make([]float64, len(u))
			}
			for p, v := range u {
				mean[p] += v
			}
		}
		for p := range mean {
			mean[p] /= float64(len(members[s]))
		}
		out[k] = mean
	}
	return out, nil
}

// setBestVsSecond fills the bootstrap test of the chosen layer against the best of the other
// layers on the full profile:
// p = (1 + #{b: best_b <= second_b}) / (B + 1).
func setBestVsSecond(res *Result, full []float64, boot [][]float64, layers []string, B int) {
	if B > 0 {
		res.LayerSamples = boot
	}
	top, _ := bestTwo(full)
	if top >= 0 && layers[top] != res.BestLayer {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the best layer on all stimuli (%s) differs from the one chosen on the selection data (%s)", layers[top], res.BestLayer))
	}
	b1, b2 := -1, -1
	for i, l := range layers {
		if l == res.BestLayer {
			b1 = i
		} else if !math.IsNaN(full[i]) && (b2 < 0 || full[i] > full[b2]) {
			b2 = i
		}
	}
	if b1 < 0 || b2 < 0 || B == 0 {
		return
	}
	res.SecondLayer = layers[b2]
	k := 0
	for b := 0; b < B; b++ {
		if !(boot[b1][b] > boot[b2][b]) {
			k++
		}
	}
	res.BestVsSecondP = float64(1+k) / float64(B+1)
}
