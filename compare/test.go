package compare

import (
	"fmt"
	"github.com/ventral-lab/ventral/stimuli"
	"math"
	"path/filepath"
	"runtime"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/metrics/rsa"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// layerRDM returns the condensed RDM of one layer's responses to an RSA benchmark's stimuli,
// with the benchmark's distance. The activations come from the cache that benchmarks.Score
// filled (same model, stimuli, preprocessing and layer), so the model is not run again.
func layerRDM(g *nn.Graph, s *benchmarks.Spec, layer, cache string) ([]float64, error) {
	set, err := s.StimulusSet("")
	if err != nil {
		return nil, err
	}
	defer set.Close()
	pre, err := stimuli.ForModel(g)
	if err != nil {
		return nil, err
	}
	r, err := activations.Extract(g, set, []string{layer}, activations.Options{Dir: cache, Quiet: true, Batch: 16,
		Preprocess: &pre, Warn: func(string) {}})
	if err != nil {
		return nil, err
	}
	f := r.Layers[0].Features
	return condensedRDM(f.Data, f.Rows, f.Cols, s.Metric.RDMDistance), nil
}

// condensedRDM returns the upper triangle (i<j, row-major) of the RDM of S rows of F features:
// 1 - Pearson r (correlation; a constant row is at distance 1 from every row) or the Euclidean
// distance. The inner products are one float32 GEMM over rows centred (correlation) and scaled
// in float64.
func condensedRDM(x []float32, S, F int, distance string) []float64 {
	corr := distance != "euclidean"
	y := make([]float32, len(x))
	scale := make([]float64, S) // the factor each row was divided by
	zero := make([]bool, S)
	for i := 0; i < S; i++ {
		row := x[i*F : (i+1)*F]
		var mean float64
		if corr {
			for _, v := range row {
				mean += float64(v)
			}
			mean /= float64(F)
		}
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		zero[i] = ss == 0
		scale[i] = 1
		if !zero[i] {
			scale[i] = math.Sqrt(ss)
		}
		for j, v := range row {
			y[i*F+j] = float32((float64(v) - mean) / scale[i])
		}
	}
	gram := make([]float32, S*S)
	tensor.Sgemm(false, true, S, S, F, 1, y, F, y, F, 0, gram, S)
	out := make([]float64, 0, S*(S-1)/2)
	for i := 0; i < S; i++ {
		for j := i + 1; j < S; j++ {
			g := (float64(gram[i*S+j]) + float64(gram[j*S+i])) / 2
			var d float64
			switch {
			case corr && (zero[i] || zero[j]):
				d = 1
			case corr:
				d = 1 - g
			default:
				// |a-b|^2 = |a|^2 + |b|^2 - 2 a.b with a = scale_i * y_i.
				si, sj := scale[i], scale[j]
				if zero[i] {
					si = 0
				}
				if zero[j] {
					sj = 0
				}
				d = math.Sqrt(max(si*si+sj*sj-2*g*si*sj, 0))
			}
			out = append(out, d)
		}
	}
	return out
}

// references returns the RDMs a model RDM is compared with on an RSA benchmark: the subjects'
// RDMs (the ceiling data) when the target is "subjects", else the data RDMs; dir is the folder
// of a spec file (for data given by a relative path).
func references(s *benchmarks.Spec, dir string) ([]*rsa.RDM, []string, error) {
	set, err := s.StimulusSet("")
	if err != nil {
		return nil, nil, err
	}
	ids := set.IDs()
	set.Close()
	d := &s.Data
	if s.Metric.Target == "subjects" && s.Ceiling.Data != nil {
		d = s.Ceiling.Data
	}
	path := d.Path
	if path == "" {
		if path, err = datasets.Resolve(d.Dataset, d.File); err != nil {
			return nil, nil, err
		}
	} else if !filepath.IsAbs(path) && dir != "" {
		path = filepath.Join(dir, path)
	}
	var vecs [][]float64
	if d.Kind == "assembly" {
		a, err := neural.ReadFile(path, d.Variable, d.Transpose)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := a.NeuroidMeta["region"]; ok && s.Region != "" {
			if a, err = a.SelectRegion(s.Region); err != nil {
				return nil, nil, err
			}
		}
		if a, err = a.AlignStimuli(ids); err != nil {
			return nil, nil, err
		}
		if a, _, err = a.Clean(); err != nil {
			return nil, nil, err
		}
		S, F, data := a.Matrix()
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		vecs = append(vecs, condensedRDM(f, S, F, s.Metric.RDMDistance))
	} else {
		rs, err := neural.ReadRDMsMAT(path, d.Variable, neural.MATRDMOptions{Field: d.Field, DimNames: d.DimNames})
		if err != nil {
			return nil, nil, err
		}
		if rs, err = rs.AlignStimuli(ids); err != nil {
			return nil, nil, err
		}
		for i := range rs.RDMs {
			vecs = append(vecs, rs.UpperTriangle(i))
		}
	}
	var out []*rsa.RDM
	for _, v := range vecs {
		r, err := rsa.NewRDMFromVector(v, ids)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, ids, nil
}

func method(comparison string) rsa.Method {
	if comparison == "kendall_tau_a" {
		return rsa.KendallTauA
	}
	return rsa.Method(comparison)
}

// hmaxTest tests the best model other than HMAX against HMAX on one benchmark (see the
// package documentation).
func hmaxTest(all []Row, s *benchmarks.Spec, dir string, seed uint64) (Test, error) {
	best, hmax := leaders(rowsOf(all, s.Name))
	switch {
	case hmax == nil:
		t := noTest(s, "no HMAX model in the comparison")
		if best != nil {
			t.Model = best.Model
		}
		return t, nil
	case best == nil:
		t := noTest(s, "no model other than HMAX")
		t.Reference = hmax.Model
		return t, nil
	}
	return pairedTest(best, hmax, s, dir, seed)
}

func noTest(s *benchmarks.Spec, note string) Test {
	return Test{Benchmark: s.Name, P: math.NaN(), Diff: math.NaN(), DiffLow: math.NaN(), DiffHigh: math.NaN(), Note: note}
}

// pairedTest tests model a against reference b on one benchmark: rsa.BootstrapTest of their
// best layers' RDMs against the benchmark's reference RDMs on all stimuli.
func pairedTest(a, b *Row, s *benchmarks.Spec, dir string, seed uint64) (Test, error) {
	t := noTest(s, "")
	t.Model, t.Reference = a.Model, b.Model
	switch {
	case s.Metric.Type != "rsa":
		t.Note = "the paired test is implemented for RSA benchmarks only"
	case a.rdm == nil || b.rdm == nil:
		t.Note = "no bootstrap samples"
	}
	if t.Note != "" {
		return t, nil
	}
	refs, ids, err := references(s, dir)
	if err != nil {
		return t, err
	}
	ra, err := rsa.NewRDMFromVector(a.rdm, ids)
	if err != nil {
		return t, err
	}
	rb, err := rsa.NewRDMFromVector(b.rdm, ids)
	if err != nil {
		return t, err
	}
	t.Samples = a.Bootstrap
	m := method(s.Metric.Comparison)
	bt, err := rsa.BootstrapTest(ra, rb, refs, m, rsa.BootOptions{Samples: t.Samples, Seed: seed, Workers: workers()})
	if err != nil {
		return t, err
	}
	t.Diff, t.DiffLow, t.DiffHigh, t.P = bt.Diff.Estimate, bt.Diff.CILow, bt.Diff.CIHigh, bt.P
	pooled := "the data RDM"
	if len(refs) > 1 {
		pooled = fmt.Sprintf("the %d subject RDMs pooled", len(refs))
	}
	t.Method = fmt.Sprintf("rsa.BootstrapTest: best layers' RDMs (%s vs %s) against %s, %s, %d paired resamples of the stimuli, two-sided p",
		a.BestLayer, b.BestLayer, pooled, m, t.Samples)
	return t, nil
}

func workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// TestPair is the paired bootstrap test of model a against reference b on RSA benchmark s,
// from their benchmarks.Score results ra and rb (scored with the same seed and bootstrap, and
// with CacheDir cache, from which the best layers' activations are read again). It serves
// callers that score models themselves, such as the constraints experiment.
func TestPair(s *benchmarks.Spec, a, b *nn.Graph, ra, rb *benchmarks.Result, cache string, seed uint64) (Test, error) {
	rows := [2]Row{{Model: a.Name, Network: a.Name}, {Model: b.Name, Network: b.Name}}
	for i, x := range []struct {
		g *nn.Graph
		r *benchmarks.Result
	}{{a, ra}, {b, rb}} {
		fillRow(&rows[i], x.r)
		if s.Metric.Type == "rsa" && x.r.Bootstrap > 0 {
			var err error
			if rows[i].rdm, err = layerRDM(x.g, s, x.r.BestLayer, cache); err != nil {
				return Test{}, fmt.Errorf("compare: %s on %s: %w", x.g.Name, s.Name, err)
			}
		}
	}
	return pairedTest(&rows[0], &rows[1], s, "", seed)
}
