package benchmarks

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/metrics/stats"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/subject"
)

// Options control Score.
type Options struct {
	// Layers to score (default: DefaultLayers).
	Layers []string
	// Seed drives the selection split and the bootstrap.
	Seed uint64
	// Bootstrap samples (0: the spec's metric.bootstrap; negative: none).
	Bootstrap int
	// CacheDir, when set, caches activations keyed by model digest, stimuli and layer.
	CacheDir string
	// MemoryBudget bounds the bytes of activations held at once where a metric needs a layer's
	// full responses (RSA); 0: DefaultMemoryBudget.
	MemoryBudget int64
}

// ErrTooFewStimuli is wrapped by errors about data with fewer stimuli than a method needs.
var ErrTooFewStimuli = errors.New("too few stimuli")

// ErrNonFinite is wrapped by errors about layers whose activations hold NaN or Inf: such a
// layer has no score (its RDM or regression would be made of NaNs), so Score refuses it rather
// than choose, report or record a number computed from it.
var ErrNonFinite = errors.New("activations are not finite")

// Score shows the benchmark's stimuli to the model, compares each layer's responses with the
// neural data by the benchmark's metric, and chooses the layer that stands for the benchmark's
// region on data kept apart from the data that scores it. The model is any subject.Model: a
// ventral graph (subject.FromGraph), an imported network, or precomputed activations.
func Score(model subject.Model, bench *Spec, opts Options) (*Result, error) {
	layers := opts.Layers
	var err error
	if len(layers) == 0 {
		if layers, err = subject.DefaultLayers(model); err != nil {
			return nil, err
		}
	} else if err := subject.CheckLayers(model, layers); err != nil {
		return nil, err
	}
	B := opts.Bootstrap
	if B == 0 {
		B = bench.Metric.Bootstrap
	}
	if B < 0 {
		B = 0
	}
	if err := checkBootstrapCount(B, len(layers)); err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bench.Name, err)
	}
	dig, err := model.Digest()
	if err != nil {
		return nil, err
	}
	res := &Result{Benchmark: bench.Name, Version: bench.Version, Region: bench.Region, Model: model.Name(),
		ModelDigest: dig, Seed: opts.Seed, Bootstrap: B, Metric: bench.Metric.Type,
		Ceiling: Ceiling{Method: bench.Ceiling.Type, Note: strings.TrimSpace(bench.Ceiling.Note)}}
	switch bench.Metric.Type {
	case "rsa":
		err = scoreRSA(model, bench, layers, opts, B, res)
	case "ridge":
		err = scoreRidge(model, bench, layers, opts, B, res)
	case "pls":
		err = scorePLS(model, bench, layers, opts, B, res)
	default:
		err = fmt.Errorf("metric %s is not implemented yet", bench.Metric.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bench.Name, err)
	}
	res.markAboveCeiling()
	return res, nil
}

// dataPath returns the local path of a data file: a registered dataset file (hash-checked)
// or a path relative to the spec file.
func (s *Spec) dataPath(dataset, file, path string) (string, error) {
	if path != "" {
		return s.localPath(path), nil
	}
	return datasets.Resolve(dataset, file)
}

// loadAssembly reads, cleans (NaN and constant neuroids dropped with warnings), selects the
// region when the data have region metadata, and aligns the stimuli to ids.
func (s *Spec) loadAssembly(d *DataSpec, ref *FileRef, ids []string, res *Result) (*neural.Assembly, error) {
	file, path, variable := d.File, d.Path, d.Variable
	if ref != nil {
		file, path, variable = ref.File, ref.Path, ref.Variable
	}
	p, err := s.dataPath(d.Dataset, file, path)
	if err != nil {
		return nil, err
	}
	a, err := readAssembly(d, p, variable, ids)
	if err != nil {
		return nil, err
	}
	if _, ok := a.NeuroidMeta["region"]; ok && s.Region != "" {
		if a, err = a.SelectRegion(s.Region); err != nil {
			return nil, err
		}
	}
	dataIDs := a.Stimuli
	a, err = a.AlignStimuli(ids)
	if err != nil {
		if hint := offsetHint(dataIDs, ids); hint != "" {
			return nil, fmt.Errorf("%w\n%s", err, hint)
		}
		return nil, err
	}
	a, warns, err := a.Clean()
	if err != nil {
		return nil, err
	}
	if len(warns) > 0 {
		res.Warnings = append(res.Warnings, droppedWarning(filepath.Base(p), warns))
	}
	return a, nil
}

// offsetHint explains the commonest mismatch of stimulus ids: numeric ids numbered from another
// origin (a .npy's rows from 0, kriegeskorte92's images from 1), or "" if that is not it.
func offsetHint(data, set []string) string {
	if len(data) != len(set) || len(data) == 0 {
		return ""
	}
	nums := func(ids []string) []int {
		out := make([]int, len(ids))
		for i, id := range ids {
			v, err := strconv.Atoi(id)
			if err != nil {
				return nil
			}
			out[i] = v
		}
		slices.Sort(out)
		return out
	}
	d, s := nums(data), nums(set)
	if d == nil || s == nil {
		return ""
	}
	k := s[0] - d[0]
	if k == 0 {
		return ""
	}
	for i := range d {
		if d[i]+k != s[i] {
			return ""
		}
	}
	return fmt.Sprintf("The data number their stimuli from %d, the stimulus set from %d (a .npy's rows count from 0). "+
		"If the data's rows are in the stimulus set's order, set data.stimulus_ids: order; otherwise give each row's id "+
		"in an array or column (data.stimulus_ids: NAME). For images of your own in a .npy, stimuli.id_offset sets where "+
		"their ids start.", d[0], s[0])
}

// loadRDMs reads an RDM set (kind rdm) or computes one RDM from an assembly (kind assembly),
// aligned to the stimulus ids.
func (s *Spec) loadRDMs(d *DataSpec, ids []string, res *Result) (*neural.RDMSet, error) {
	if d.Kind == "assembly" {
		a, err := s.loadAssembly(d, nil, ids, res)
		if err != nil {
			return nil, err
		}
		S, F, data := a.Matrix()
		if F < 2 && s.Metric.RDMDistance == "correlation" {
			return nil, fmt.Errorf("%s: %d neuroid left after cleaning: the correlation distance between two stimuli needs at least 2 neuroids (every pair would be 1); use more neuroids or metric.rdm_distance: euclidean", a.Name, F)
		}
		return &neural.RDMSet{Name: a.Name, Stimuli: ids, Names: []string{a.Name}, RDMs: [][]float64{neuralRDM(data, S, F, s.Metric.RDMDistance)}}, nil
	}
	p, err := s.dataPath(d.Dataset, d.File, d.Path)
	if err != nil {
		return nil, err
	}
	set, err := neural.ReadRDMsMAT(p, d.Variable, neural.MATRDMOptions{Field: d.Field, DimNames: d.DimNames})
	if err != nil {
		return nil, err
	}
	return set.AlignStimuli(ids)
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines; f writes its own result slots.
func parallel(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// sampleCounts draws n indices with replacement from a stream of (seed, b) and returns how
// often each was drawn.
func sampleCounts(n int, seed uint64, b int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^uint64(b+1)))
	m := make([]float64, n)
	for i := 0; i < n; i++ {
		m[rng.IntN(n)]++
	}
	return m
}

// heldOutStream separates the held-out resampling (Result.HeldOutSamples) from the bootstrap
// over all stimuli drawn from the same seed.
const heldOutStream = 0x68656c642d6f7574

// heldOutCounts draws len(idx) of the indices idx with replacement (stream (seed, b) of the
// held-out resampling) and returns how often each of the n indices was drawn.
func heldOutCounts(n int, idx []int, seed uint64, b int) []float64 {
	c := sampleCounts(len(idx), seed^heldOutStream, b)
	m := make([]float64, n)
	for k, v := range c {
		m[idx[k]] += v
	}
	return m
}

// weightedMean is the mean of the finite x weighted by w.
func weightedMean(x, w []float64) float64 {
	var s, sw float64
	for i, v := range x {
		if !math.IsNaN(v) {
			s += w[i] * v
			sw += w[i]
		}
	}
	return s / sw
}

// SplitHalves returns the indices (in the stimulus set's order) of the selection half, on which
// Score chooses an RSA or PLS benchmark's best layer with this seed, and of the held-out half,
// which scores it.
func SplitHalves(n int, seed uint64) (selection, heldOut []int) { return halves(n, seed) }

// halves splits n stimuli into two halves by a seeded permutation.
func halves(n int, seed uint64) (a, b []int) {
	rng := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
	p := rng.Perm(n)
	return p[:n/2], p[n/2:]
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// finite returns the values of x that are not NaN or infinite.
func finite(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// ciOf returns the 2.5th and 97.5th percentiles of the finite values, or (NaN, NaN) without any.
func ciOf(x []float64) (float64, float64) {
	x = finite(x)
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	return stats.Percentile(x, 2.5), stats.Percentile(x, 97.5)
}

// aggregate is the median (or mean) over the finite per-neuroid scores.
func aggregate(how string, x []float64) float64 {
	x = finite(x)
	if len(x) == 0 {
		return math.NaN()
	}
	if how == "mean" {
		m, _ := stats.MeanSE(x)
		return m
	}
	return stats.Median(x)
}

// bestTwo returns the indices of the largest and second largest finite values (-1 if none).
func bestTwo(x []float64) (int, int) {
	b, s := -1, -1
	for i, v := range x {
		if math.IsNaN(v) {
			continue
		}
		switch {
		case b < 0 || v > x[b]:
			b, s = i, b
		case s < 0 || v > x[s]:
			s = i
		}
	}
	return b, s
}

// MinBootstrap is the fewest bootstrap samples that give a 95% percentile interval: with B
// samples the 2.5th and 97.5th percentiles have B*2.5% samples beyond each, at least one when B
// >= 40. With fewer an "interval" is the extreme samples or a point, and can exclude the score.
const MinBootstrap = 40

// maxBootstrapBytes bounds the memory the bootstrap samples take (see bootstrapBytes).
const maxBootstrapBytes = 4 << 30

// CheckBootstrap validates a --bootstrap flag: 0 (the benchmark's count) or at least
// MinBootstrap.
func CheckBootstrap(n int) error {
	if n != 0 && n < MinBootstrap {
		return fmt.Errorf("--bootstrap %d: expected 0 (the benchmark's count) or at least %d samples (a 95%% percentile interval needs one sample beyond each of the 2.5th and 97.5th percentiles)", n, MinBootstrap)
	}
	return nil
}

// bootstrapBytes estimates the memory of B bootstrap samples over L layers: raw and normalised
// samples per layer and the held-out resamples (float64 each).
func bootstrapBytes(B, L int) float64 { return 8 * float64(B) * float64(2*L+1) }

// checkBootstrapCount refuses a resolved count below MinBootstrap or one whose samples would
// not fit in maxBootstrapBytes, giving the estimate.
func checkBootstrapCount(B, L int) error {
	if B > 0 && B < MinBootstrap {
		return fmt.Errorf("bootstrap %d: expected none or at least %d samples (a 95%% percentile interval needs one sample beyond each of the 2.5th and 97.5th percentiles)", B, MinBootstrap)
	}
	if need := bootstrapBytes(B, L); need > maxBootstrapBytes {
		return fmt.Errorf("bootstrap %d samples of %d layers would take about %.1f GB; at most %d fit in %d GB", B, L, need/1e9, int(maxBootstrapBytes/bootstrapBytes(1, L)), maxBootstrapBytes>>30)
	}
	return nil
}
