package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/metrics/ceiling"
	"github.com/ventral-lab/ventral/metrics/regression"
	"github.com/ventral-lab/ventral/subject"
)

// End-to-end checks of Score against an independent scipy/scikit-learn computation on data
// built so that each design decision shows in the numbers: two layers, one that carries the
// signal on the stimuli that choose the layer and one that carries it on the stimuli that score
// it, so that choosing and scoring on the same (or swapped) data would change the best layer and
// the held-out score by far more than the tolerance; and ceilings that differ between the
// selection and scoring data, so that normalising by the wrong bound would too. The models are
// precomputed activations (subject.Open); Go hands python the features, responses, the seeded
// halves, folds and repetition splits as .npy, and python recomputes everything else.

// f32 rounds to float32, the precision activations are stored in, so that both sides start from
// the same numbers.
func f32(x float64) float64 { return float64(float32(x)) }

// designLayers returns two feature layers over S stimuli from the latent rows L: "early"
// carries L (plus noise sdA) on the stimuli in onA and random values elsewhere, "late" carries L
// (plus noise sdB) on the other stimuli. Each has extra random dims.
func designLayers(rng *rand.Rand, L [][]float64, onA map[int]bool, sdA, sdB float64) (early, late []float64) {
	for i, row := range L {
		for _, pair := range []struct {
			out *[]float64
			on  bool
			sd  float64
		}{{&early, onA[i], sdA}, {&late, !onA[i], sdB}} {
			for _, v := range row {
				x := rng.NormFloat64()
				if pair.on {
					x = v + pair.sd*rng.NormFloat64()
				}
				*pair.out = append(*pair.out, f32(x))
			}
			for k := 0; k < 2; k++ {
				*pair.out = append(*pair.out, f32(0.3*rng.NormFloat64()))
			}
		}
	}
	return early, late
}

func latent(rng *rand.Rand, S, d int) [][]float64 {
	L := make([][]float64, S)
	for i := range L {
		for k := 0; k < d; k++ {
			L[i] = append(L[i], rng.NormFloat64())
		}
	}
	return L
}

func setOf(idx []int) map[int]bool {
	m := map[int]bool{}
	for _, i := range idx {
		m[i] = true
	}
	return m
}

// writeModel writes layers (S rows each) to an .npz and opens it as a subject.
func writeModel(t *testing.T, dir string, S int, layers map[string][]float64) subject.Model {
	t.Helper()
	arrays := map[string]*npy.Array{}
	for name, d := range layers {
		arrays[name] = &npy.Array{Shape: []int{S, len(d) / S}, Data: d}
		writeNpy(t, dir, "feat_"+name+".npy", []int{S, len(d) / S}, d)
	}
	p := filepath.Join(dir, "model.npz")
	if err := npy.WriteNPZ(p, arrays, false); err != nil {
		t.Fatal(err)
	}
	m, err := subject.Open(p, "designed")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func loadSpec(t *testing.T, dir, body string) *Spec {
	t.Helper()
	p := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(p, []byte("name: crosscheck\nversion: 1\ncitation: none\nregion: IT\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFolds hands python a list of folds as one array of fold numbers per stimulus.
func writeFolds(t *testing.T, dir, name string, n, k int, seed uint64) {
	t.Helper()
	folds, err := regression.KFold(n, k, nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	lab := make([]float64, n)
	for f, fo := range folds {
		for _, i := range fo {
			lab[i] = float64(f)
		}
	}
	writeNpy(t, dir, name, []int{n}, lab)
}

// writeSplits hands python the 100 seeded repetition splits of split-half ceilings over n
// stimuli with 2 repetitions: which repetition goes to the first half, per split and stimulus.
func writeSplits(t *testing.T, dir, name string, n int, seed uint64) {
	t.Helper()
	var first []float64
	for _, sp := range ceiling.DrawSplits(n, 2, splitHalfSplits, seed) {
		for _, o := range sp.Order {
			first = append(first, float64(o[0]))
		}
	}
	writeNpy(t, dir, name, []int{splitHalfSplits, n}, first)
}

// writeReps writes long-form CSV responses (stimulus ids from id0+1) of signal + noise sd(i)
// with 2 repetitions, and returns them as a stimuli x neuroids x 2 array for python.
func writeReps(t *testing.T, rng *rand.Rand, dir, name string, signal [][]float64, id0 int, sd func(i int) float64) []float64 {
	t.Helper()
	var b strings.Builder
	var out []float64
	b.WriteString("stimulus_id,neuroid_id,repetition,value\n")
	for i, row := range signal {
		for n, v := range row {
			for r := 0; r < 2; r++ {
				x := v + sd(i)*rng.NormFloat64()
				out = append(out, x)
				fmt.Fprintf(&b, "%d,n%d,%d,%.17g\n", id0+i+1, n, r, x)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func signalOf(L [][]float64, W [][]float64) [][]float64 {
	out := make([][]float64, len(L))
	for i, row := range L {
		out[i] = make([]float64, len(W[0]))
		for k, v := range row {
			for n := range W[k] {
				out[i][n] += v * W[k][n]
			}
		}
	}
	return out
}

// expected is what the python script computes.
type expected struct {
	Full, Sel, Norm map[string]float64
	Best            string
	HeldOut         float64 `json:"held_out"`
	HeldOutNorm     float64 `json:"held_out_norm"`
	Lower, Upper    float64
	Ceiling         float64
	// What a wrong implementation would print: the layer chosen on the scoring data; the
	// held-out score normalised by the other bound.
	SwappedBest string  `json:"swapped_best"`
	WrongNorm   float64 `json:"wrong_norm"`
}

// check compares a result with python's numbers (tol) and makes sure the wrong designs would
// have been caught.
func (e *expected) check(t *testing.T, r *Result, tol float64) {
	t.Helper()
	t.Logf("Score: best %s held-out %.6f (norm %.6f), python: best %s held-out %.6f (norm %.6f); choosing on the scoring data would pick %s, scoring on the choosing data give %.4f, the wrong bound %.4f",
		r.BestLayer, r.HeldOut, deref(r.HeldOutNormalized), e.Best, e.HeldOut, e.HeldOutNorm, e.SwappedBest, e.Sel[e.Best], e.WrongNorm)
	// Choosing on the scoring data picks the other layer; scoring on the choosing data gives
	// the chosen layer's selection score; the other bound another normalised score.
	if e.SwappedBest == e.Best || math.Abs(e.Sel[e.Best]-e.HeldOut) < 0.1 || math.Abs(e.WrongNorm-e.HeldOutNorm) < 100*tol {
		t.Fatalf("the construction does not separate the right design from the wrong ones: %+v", e)
	}
	worst := 0.0
	near := func(what string, got, want float64) {
		t.Helper()
		worst = math.Max(worst, math.Abs(got-want))
		if !(math.Abs(got-want) <= tol) {
			t.Errorf("%s: Score %.9g, python %.9g", what, got, want)
		}
	}
	defer func() { t.Logf("largest difference from python: %.2g (tolerance %.0g)", worst, tol) }()
	if r.BestLayer != e.Best {
		t.Errorf("best layer %s, python %s", r.BestLayer, e.Best)
	}
	near("held-out score", r.HeldOut, e.HeldOut)
	near("held-out normalised", deref(r.HeldOutNormalized), e.HeldOutNorm)
	for _, l := range r.Layers {
		near(l.Layer+" score", l.Score, e.Full[l.Layer])
		near(l.Layer+" selection score", l.Selection, e.Sel[l.Layer])
		near(l.Layer+" normalised", deref(l.Normalized), e.Norm[l.Layer])
	}
	if r.Ceiling.Method == "rsa-noise-ceiling" {
		near("ceiling lower", r.Ceiling.Lower, e.Lower)
		near("ceiling upper", r.Ceiling.Upper, e.Upper)
	} else {
		near("ceiling", r.Ceiling.Value, e.Ceiling)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

const pyCommon = `
import json, numpy as np
from scipy.stats import pearsonr, spearmanr
def load(n): return np.load(n)
def out(d): print(json.dumps(d))
def splithalf(reps, first):
    # reps: stimuli x neuroids x 2; first: splits x stimuli (the repetition in the first half)
    S = reps.shape[0]
    r = np.zeros(reps.shape[1])
    for f in first.astype(int):
        a = reps[np.arange(S), :, f]
        b = reps[np.arange(S), :, 1 - f]
        r += [pearsonr(a[:, n], b[:, n])[0] for n in range(reps.shape[1])]
    r /= len(first)
    return float(np.median(2 * r / (1 + r)))
def finish(full, sel, score_on_held, norm_full, held_norm, wrong_norm, extra):
    best = max(sel, key=sel.get)
    swapped = max(score_on_held, key=score_on_held.get)
    d = dict(full=full, sel=sel, best=best, held_out=score_on_held[best], norm={k: v / norm_full for k, v in full.items()},
             held_out_norm=score_on_held[best] / held_norm, swapped_best=swapped,
             wrong_norm=score_on_held[best] / wrong_norm)
    d.update(extra)
    out(d)
`

// RSA, target subjects, noise ceiling over subjects (sessions averaged): the layer is chosen by
// the Spearman correlation over the stimulus pairs within the selection half and scored within
// the held-out half; the held-out score is normalised by the upper bound on the held-out half,
// the per-layer scores (all pairs) by the upper bound on all pairs.
func TestScoreRSAMatchesScipy(t *testing.T) {
	const S, seed, subj, sess, d = 40, 11, 3, 2, 6
	toyStimuli(t, S, 0)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 1))
	sel, held := SplitHalves(S, seed)
	L := latent(rng, S, d)
	early, late := designLayers(rng, L, setOf(sel), 0.3, 0.8)
	m := writeModel(t, dir, S, map[string][]float64{"early": early, "late": late})
	// Session patterns: the latent rows, a subject's own deviation and session noise, noisier
	// on the held-out stimuli (so the two halves' ceilings differ).
	isHeld := setOf(held)
	var pat []float64
	for s := 0; s < subj; s++ {
		own := latent(rng, S, d)
		for e := 0; e < sess; e++ {
			for i := 0; i < S; i++ {
				sd := 0.5
				if isHeld[i] {
					sd = 1.3
				}
				for k := 0; k < d; k++ {
					pat = append(pat, L[i][k]+0.6*own[i][k]+sd*rng.NormFloat64())
				}
			}
		}
	}
	writeNpy(t, dir, "patterns.npy", []int{subj, sess, S, d}, pat)
	writeNpy(t, dir, "sel.npy", []int{len(sel)}, intsToFloats(sel))
	writeNpy(t, dir, "held.npy", []int{len(held)}, intsToFloats(held))
	script := pyCommon + `
import scipy.io as sio
P = load("patterns.npy"); subj, sess, S, _ = P.shape
R = np.zeros((1, subj, sess), dtype=[("RDM", "O")])
for s in range(subj):
    for e in range(sess):
        R[0, s, e]["RDM"] = 1 - np.corrcoef(P[s, e])
sio.savemat("rdms.mat", {"RDMs": R})
iu = np.triu_indices(S, 1)
units = np.array([np.mean([R[0, s, e]["RDM"][iu] for e in range(sess)], axis=0) for s in range(subj)])
def pairs(idx):
    m = np.zeros(S, bool); m[idx] = True
    return m[iu[0]] & m[iu[1]]
allp = np.ones(len(iu[0]), bool)
selp, heldp = pairs(load("sel.npy").astype(int)), pairs(load("held.npy").astype(int))
rho = lambda a, b, p: spearmanr(a[p], b[p])[0]
def score(f, p):
    v = (1 - np.corrcoef(f))[iu]
    return float(np.mean([rho(v, u, p) for u in units]))
def bounds(p):
    n = len(units)
    up = np.mean([rho(units[k], units.mean(0), p) for k in range(n)])
    lo = np.mean([rho(units[k], np.delete(units, k, 0).mean(0), p) for k in range(n)])
    return float(lo), float(up)
F = {k: load("feat_%s.npy" % k) for k in ("early", "late")}
lo, up = bounds(allp)
_, up_held = bounds(heldp)
finish({k: score(f, allp) for k, f in F.items()}, {k: score(f, selp) for k, f in F.items()},
       {k: score(f, heldp) for k, f in F.items()}, up, up_held, up, dict(lower=lo, upper=up))
`
	var want expected
	runPython(t, dir, script, &want)
	b := loadSpec(t, dir, `stimuli: {set: toy}
data: {kind: rdm, path: rdms.mat, variable: RDMs, field: RDM}
metric: {type: rsa, target: subjects, bootstrap: 40}
ceiling:
  type: rsa-noise-ceiling
  unit: subject
  data: {kind: rdm, path: rdms.mat, variable: RDMs, field: RDM, dim_names: ["", subject, session]}
`)
	r, err := Score(m, b, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ceiling.Units != subj {
		t.Fatalf("ceiling over %d %ss, want %d subjects", r.Ceiling.Units, r.Ceiling.Unit, subj)
	}
	// Spearman on RDMs of float32 features: a near-tie may order differently (about 1e-6).
	want.check(t, r, 2e-6)
}

// PLS (3 components, 5-fold cross-validation, median over neuroids per fold, mean over folds)
// with the split-half ceiling: the layer is chosen by the cross-validation within the
// selection half and scored within the held-out half; the held-out score is normalised by the
// held-out half's ceiling, the per-layer scores by the ceiling over all stimuli.
func TestScorePLSMatchesSklearn(t *testing.T) {
	const S, N, seed, d, folds = 60, 5, 7, 4, 5
	toyStimuli(t, S, 0)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 2))
	sel, held := SplitHalves(S, seed)
	L := latent(rng, S, d)
	early, late := designLayers(rng, L, setOf(sel), 0.2, 0.6)
	m := writeModel(t, dir, S, map[string][]float64{"early": early, "late": late})
	isHeld := setOf(held)
	reps := writeReps(t, rng, dir, "resp.csv", signalOf(L, latent(rng, d, N)), 0, func(i int) float64 {
		if isHeld[i] {
			return 2.0
		}
		return 0.6
	})
	writeNpy(t, dir, "reps.npy", []int{S, N, 2}, reps)
	writeNpy(t, dir, "sel.npy", []int{len(sel)}, intsToFloats(sel))
	writeNpy(t, dir, "held.npy", []int{len(held)}, intsToFloats(held))
	writeFolds(t, dir, "folds_all.npy", S, folds, seed)
	writeFolds(t, dir, "folds_half.npy", len(sel), folds, seed)
	writeSplits(t, dir, "splits_all.npy", S, seed)
	writeSplits(t, dir, "splits_held.npy", len(held), seed)
	script := pyCommon + `
from sklearn.cross_decomposition import PLSRegression
reps = load("reps.npy"); Y = reps.mean(2)
sel, held = load("sel.npy").astype(int), load("held.npy").astype(int)
def cv(X, Y, folds):
    scores = []
    for f in range(int(folds.max()) + 1):
        te, tr = folds == f, folds != f
        m = PLSRegression(n_components=3, scale=False, tol=1e-15, max_iter=100000).fit(X[tr], Y[tr])
        p = m.predict(X[te])
        scores.append(np.median([pearsonr(p[:, n], Y[te, n])[0] for n in range(Y.shape[1])]))
    return float(np.mean(scores))
F = {k: load("feat_%s.npy" % k) for k in ("early", "late")}
fa, fh = load("folds_all.npy"), load("folds_half.npy")
ceil_all = splithalf(reps, load("splits_all.npy"))
ceil_held = splithalf(reps[held], load("splits_held.npy"))
finish({k: cv(f, Y, fa) for k, f in F.items()}, {k: cv(f[sel], Y[sel], fh) for k, f in F.items()},
       {k: cv(f[held], Y[held], fh) for k, f in F.items()}, ceil_all, ceil_held, ceil_all, dict(ceiling=ceil_all))
`
	var want expected
	runPython(t, dir, script, &want)
	b := loadSpec(t, dir, "stimuli: {set: toy}\ndata: {kind: assembly, path: resp.csv}\nmetric: {type: pls, folds: 5, components: 3, bootstrap: 40}\nceiling: {type: split-half}\n")
	r, err := Score(m, b, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	// The kernel features come from one float32 GEMM: about 1e-7 relative.
	want.check(t, r, 1e-5)
}

// Ridge (one penalty, relative to the mean eigenvalue of the standardised training kernel)
// fitted on the train stimuli and scored on the test stimuli, with the split-half ceiling of the
// test data: the layer is chosen by 5-fold cross-validation within the train stimuli; scores
// are normalised by the test data's ceiling, not the train data's.
func TestScoreRidgeMatchesSklearn(t *testing.T) {
	const ntr, nte, N, seed, d, folds = 50, 30, 5, 3, 4, 5
	const S = ntr + nte
	toyStimuli(t, S, ntr)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 3))
	L := latent(rng, S, d)
	train := map[int]bool{}
	for i := 0; i < ntr; i++ {
		train[i] = true
	}
	early, late := designLayers(rng, L, train, 0.2, 0.5)
	m := writeModel(t, dir, S, map[string][]float64{"early": early, "late": late})
	// The model's arrays hold all 80 stimuli; the train and test sets (ids 1..50, 51..80) pick
	// their rows through an ids array.
	ids := make([]float64, S)
	for i := range ids {
		ids[i] = float64(i + 1)
	}
	p := m.(*subject.Precomputed).Path()
	if err := npy.WriteNPZ(p, map[string]*npy.Array{"early": {Shape: []int{S, len(early) / S}, Data: early},
		"late": {Shape: []int{S, len(late) / S}, Data: late}, "ids": {Shape: []int{S}, Data: ids}}, false); err != nil {
		t.Fatal(err)
	}
	m, err := subject.Open(p, "designed")
	if err != nil {
		t.Fatal(err)
	}
	signal := signalOf(L, latent(rng, d, N))
	repsTr := writeReps(t, rng, dir, "train.csv", signal[:ntr], 0, func(int) float64 { return 1.2 })
	repsTe := writeReps(t, rng, dir, "test.csv", signal[ntr:], ntr, func(int) float64 { return 0.4 })
	writeNpy(t, dir, "reps_train.npy", []int{ntr, N, 2}, repsTr)
	writeNpy(t, dir, "reps_test.npy", []int{nte, N, 2}, repsTe)
	writeFolds(t, dir, "folds_train.npy", ntr, folds, seed)
	writeSplits(t, dir, "splits_test.npy", nte, seed)
	writeSplits(t, dir, "splits_train.npy", ntr, seed)
	script := pyCommon + `
from sklearn.linear_model import Ridge
rtr, rte = load("reps_train.npy"), load("reps_test.npy")
Ytr, Yte = rtr.mean(2), rte.mean(2)
ntr = len(Ytr)
folds = load("folds_train.npy")
def prep(f):
    mu, sd = f[:ntr].mean(0), f[:ntr].std(0)
    Z = np.where(sd > 0, (f - mu) / np.where(sd > 0, sd, 1), 0.0)
    Ztr = Z[:ntr]
    alpha = 0.5 * ((Ztr - Ztr.mean(0)) ** 2).sum() / ntr
    return Ztr, Z[ntr:], alpha
def med_r(p, Y): return float(np.median([pearsonr(p[:, n], Y[:, n])[0] for n in range(Y.shape[1])]))
def selection(f):
    Ztr, _, a = prep(f)
    s = []
    for k in range(int(folds.max()) + 1):
        te, tr = folds == k, folds != k
        s.append(med_r(Ridge(alpha=a).fit(Ztr[tr], Ytr[tr]).predict(Ztr[te]), Ytr[te]))
    return float(np.mean(s))
def test_score(f):
    Ztr, Zte, a = prep(f)
    return med_r(Ridge(alpha=a).fit(Ztr, Ytr).predict(Zte), Yte)
F = {k: load("feat_%s.npy" % k) for k in ("early", "late")}
ceil_te, ceil_tr = splithalf(rte, load("splits_test.npy")), splithalf(rtr, load("splits_train.npy"))
full = {k: test_score(f) for k, f in F.items()}
finish(full, {k: selection(f) for k, f in F.items()}, full, ceil_te, ceil_te, ceil_tr, dict(ceiling=ceil_te))
`
	var want expected
	runPython(t, dir, script, &want)
	b := loadSpec(t, dir, `stimuli: {set: toy, train: train, test: test}
data: {kind: assembly, train: {path: train.csv}, test: {path: test.csv}}
metric: {type: ridge, folds: 5, alphas: [0.5], bootstrap: 40}
ceiling: {type: split-half}
`)
	r, err := Score(m, b, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	want.check(t, r, 1e-5)
}
