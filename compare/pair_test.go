package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// Holm's adjustment on a worked example: p = .01 .04 .03 .005 (m = 4) sorted .005 .01 .03 .04
// times 4 3 2 1 = .02 .03 .06 .04, made monotone: .02 .03 .06 .06; NaN is no test.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, math.NaN(), 0.03, 0.005})
	want := []float64{0.03, 0.06, math.NaN(), 0.06, 0.02}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-15) {
			t.Fatalf("Holm = %v, want %v", got, want)
		}
	}
	if got := Holm([]float64{0.6, 0.5}); got[0] != 1 || got[1] != 1 {
		t.Fatalf("capped at 1: %v", got)
	}
}

// The paired test runs on the held-out half: two models whose responses are identical on the
// held-out stimuli and differ on the selection half score differently on all stimuli but get
// a difference of exactly 0 and p = 1; a third model, different on the held-out half too, gets
// a non-zero difference equal to the difference of the held-out scores.
func TestPairUsesHeldOutStimuli(t *testing.T) {
	const n, seed = 24, 5
	ids := make([]string, n)
	imgs := make([]*tensor.Tensor, n)
	for i := range ids {
		ids[i], imgs[i] = fmt.Sprint(i+1), tensor.New(1, 4, 4)
	}
	old := benchmarks.LoadStimuli
	benchmarks.LoadStimuli = func(set, split string) (*stimuli.Set, error) {
		if set == "pairs" {
			return stimuli.FromTensors("pairs", ids, imgs)
		}
		return old(set, split)
	}
	t.Cleanup(func() { benchmarks.LoadStimuli = old })
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	var csv strings.Builder
	csv.WriteString("stimulus_id,n1,n2,n3,n4\n")
	resp := make([][]float64, n)
	for i := range resp {
		fmt.Fprintf(&csv, "%d", i+1)
		for k := 0; k < 4; k++ {
			v := rng.NormFloat64()
			resp[i] = append(resp[i], v)
			fmt.Fprintf(&csv, ",%g", v)
		}
		csv.WriteString("\n")
	}
	os.WriteFile(filepath.Join(dir, "resp.csv"), []byte(csv.String()), 0o644)
	spec := filepath.Join(dir, "b.yaml")
	os.WriteFile(spec, []byte("name: pairs-rsa\nversion: 1\ncitation: none\nregion: IT\nstimuli: {set: pairs}\ndata: {kind: assembly, path: resp.csv}\nmetric: {type: rsa, bootstrap: 200}\nceiling: {type: none}\n"), 0o644)
	b, err := benchmarks.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, held := benchmarks.SplitHalves(n, seed)
	isHeld := map[int]bool{}
	for _, i := range held {
		isHeld[i] = true
	}
	// a: the responses plus noise; b: a's rows on the held-out half, other noise elsewhere;
	// c: other noise everywhere.
	feats := map[string][]float64{}
	for i := 0; i < n; i++ {
		for k := 0; k < 4; k++ {
			va := resp[i][k] + 0.8*rng.NormFloat64()
			vb := va
			if !isHeld[i] {
				vb = resp[i][k] + 3*rng.NormFloat64()
			}
			feats["a"] = append(feats["a"], va)
			feats["b"] = append(feats["b"], vb)
			feats["c"] = append(feats["c"], rng.NormFloat64())
		}
	}
	res := map[string]*benchmarks.Result{}
	for name, f := range feats {
		p := filepath.Join(dir, name+".npz")
		if err := npy.WriteNPZ(p, map[string]*npy.Array{"layer": {Shape: []int{n, 4}, Data: f}}, false); err != nil {
			t.Fatal(err)
		}
		m, err := subject.Open(p, name)
		if err != nil {
			t.Fatal(err)
		}
		if res[name], err = benchmarks.Score(m, b, benchmarks.Options{Seed: seed}); err != nil {
			t.Fatal(err)
		}
	}
	ab, err := TestPair(res["a"], res["b"])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a vs b: all stimuli %.4f vs %.4f; held-out %.4f vs %.4f; test %+v", res["a"].Layers[0].Score, res["b"].Layers[0].Score, res["a"].HeldOut, res["b"].HeldOut, ab)
	if math.Abs(res["a"].Layers[0].Score-res["b"].Layers[0].Score) < 0.02 {
		t.Fatalf("construction: a and b should differ on all stimuli")
	}
	if ab.Diff != 0 || ab.DiffLow != 0 || ab.DiffHigh != 0 || ab.P != 1 || ab.Samples != 200 || !strings.Contains(ab.Method, fmt.Sprintf("the %d held-out stimuli", len(held))) {
		t.Fatalf("a vs b on the held-out half: %+v", ab)
	}
	ac, err := TestPair(res["a"], res["c"])
	if err != nil {
		t.Fatal(err)
	}
	if ac.Diff != res["a"].HeldOut-res["c"].HeldOut || ac.Diff == 0 || !(ac.DiffLow <= ac.Diff && ac.Diff <= ac.DiffHigh) || !(ac.P > 0 && ac.P < 1) {
		t.Fatalf("a vs c: %+v", ac)
	}
	// Results scored with other seeds cannot be paired.
	m, _ := subject.Open(filepath.Join(dir, "c.npz"), "c")
	other, err := benchmarks.Score(m, b, benchmarks.Options{Seed: seed + 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TestPair(res["a"], other); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Fatalf("different seeds: %v", err)
	}
}

// A model known only by its precomputed activations sits in a comparison beside networks: the
// activations of the trained checkpoint, written to an .npz, score exactly as the checkpoint
// does, so the paired test against it finds a difference of 0 (p = 1).
func TestComparePrecomputed(t *testing.T) {
	f := setup(t)
	g, err := train.LoadModel(f.run)
	if err != nil {
		t.Fatal(err)
	}
	set, err := benchmarks.LoadStimuli("tiny", "")
	if err != nil {
		t.Fatal(err)
	}
	pre, err := stimuli.ForModel(g)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := activations.Extract(g, set, subject.GraphDefaultLayers(g), activations.Options{NoCache: true, Quiet: true, Preprocess: &pre})
	if err != nil {
		t.Fatal(err)
	}
	arrays := map[string]*npy.Array{}
	for _, l := range ext.Layers {
		a := &npy.Array{Shape: []int{l.Features.Rows, l.Features.Cols}}
		for _, v := range l.Features.Data {
			a.Data = append(a.Data, float64(v))
		}
		arrays[l.Name] = a
	}
	feats := filepath.Join(f.dir, "elsewhere.npz")
	if err := npy.WriteNPZ(feats, arrays, true); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(3)
	cfg.Models, cfg.Against, cfg.NoRecord = []string{f.run, feats}, f.run, true
	tb, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	tb.WriteTable(&out)
	t.Log("\n" + out.String())
	if len(tb.Tests) != 2 {
		t.Fatalf("%d tests", len(tb.Tests))
	}
	for _, x := range tb.Tests {
		if x.Model != feats || x.Diff != 0 || x.P != 1 {
			t.Errorf("precomputed vs its network: %+v", x)
		}
	}
	for _, r := range tb.Rows {
		if r.Model == feats && (r.Kind != Precomputed || r.Label != "elsewhere" || !strings.Contains(r.Weights, "sha256:")) {
			t.Errorf("row %+v", r)
		}
	}
	if !strings.Contains(out.String(), "precomputed") {
		t.Error("the table does not say the model is precomputed")
	}
}
