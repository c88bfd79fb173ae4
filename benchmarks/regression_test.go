package benchmarks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/stimuli"
)

// writeK92Responses writes long-form CSV responses of neuroids n0..n5 to the 92 images with
// reps repetitions: each neuroid's mean depends on the image's category, plus noise per
// repetition; nanNeuroid has a NaN response and flat is constant.
func writeK92Responses(t *testing.T, dir string, reps int) string {
	t.Helper()
	set, err := stimuli.Kriegeskorte92From(mirror.Path(t, k92[0]))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := set.Meta("category")
	level := map[string]float64{}
	rng := rand.New(rand.NewPCG(9, 9))
	var b strings.Builder
	b.WriteString("stimulus_id,neuroid_id,repetition,value\n")
	for i, id := range set.IDs() {
		if _, ok := level[cat[i]]; !ok {
			level[cat[i]] = float64(len(level))
		}
		for n := 0; n < 6; n++ {
			for r := 0; r < reps; r++ {
				v := level[cat[i]]*float64(n%3+1) + rng.NormFloat64()
				fmt.Fprintf(&b, "%s,n%d,%d,%g\n", id, n, r, v)
			}
		}
		for r := 0; r < reps; r++ {
			nan := "1"
			if i == 5 && r == 0 {
				nan = "NaN"
			}
			fmt.Fprintf(&b, "%s,nanNeuroid,%d,%s\n%s,flat,%d,2\n", id, r, nan, id, r)
		}
	}
	p := filepath.Join(dir, "resp.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func userSpec(t *testing.T, dir, body string) *Spec {
	t.Helper()
	p := filepath.Join(dir, "user.yaml")
	os.WriteFile(p, []byte("name: user-bench\nversion: 1\ncitation: none\nregion: IT\nstimuli: {set: kriegeskorte92}\n"+body), 0o644)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScorePLSSplitHalf(t *testing.T) {
	useMirror(t, k92[0])
	dir := t.TempDir()
	writeK92Responses(t, dir, 4)
	s := userSpec(t, dir, "data: {kind: assembly, path: resp.csv}\nmetric: {type: pls, stratify: category, components: 25}\nceiling: {type: split-half}\n")
	if s.Metric.Folds != 10 {
		t.Fatalf("pls folds default %d", s.Metric.Folds)
	}
	opts := Options{Seed: 2, Bootstrap: 50, Layers: []string{"relu1", "fc"}}
	r, err := Score(subject.FromGraph(tinyModel(t)), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	r.WriteTable(&tab)
	t.Log("\n" + tab.String())
	if len(r.Neuroids) != 6 || strings.Contains(strings.Join(r.Neuroids, ","), "flat") {
		t.Fatalf("neuroids %v: the NaN and constant ones should be excluded", r.Neuroids)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "2 neuroid(s) excluded: nanNeuroid, flat") {
		t.Fatalf("warnings %q", r.Warnings)
	}
	if !(r.Ceiling.Value > 0.5 && r.Ceiling.Value <= 1) || len(r.NeuroidCeiling) != 6 || !strings.Contains(r.Formula, "Spearman-Brown") {
		t.Fatalf("ceiling %+v formula %q", r.Ceiling, r.Formula)
	}
	for _, l := range r.Layers {
		if len(l.PerNeuroid) != 6 || len(l.FoldScores) != 10 || l.SE == nil || l.Normalized == nil {
			t.Fatalf("layer %+v", l)
		}
		if math.Abs(*l.Normalized-l.Score/r.Ceiling.Value) > 1e-12 {
			t.Fatalf("normalised %v != %v / %v", *l.Normalized, l.Score, r.Ceiling.Value)
		}
	}
	checkLayerSamples(t, r)
	if !strings.Contains(tab.String(), " se ") {
		t.Fatal("no se column")
	}
	// JSON (NaN per-neuroid scores as null) reads back, and scoring again is identical.
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	r2, err := Score(subject.FromGraph(tinyModel(t)), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if js2, _ := r2.JSON(); !bytes.Equal(js, js2) {
		t.Fatal("pls scores differ between runs")
	}

	// Bad input stays clear.
	s.Metric.Folds = 50
	if _, err := Score(subject.FromGraph(tinyModel(t)), s, opts); !errors.Is(err, ErrTooFewStimuli) || !strings.Contains(err.Error(), "50 folds") {
		t.Errorf("folds: %v", err)
	}
	s.Metric.Folds = 10
	s.Metric.Stratify = "colour"
	if _, err := Score(subject.FromGraph(tinyModel(t)), s, opts); err == nil || !strings.Contains(err.Error(), "category") {
		t.Errorf("unknown stratify column: %v", err)
	}
	writeK92Responses(t, dir, 1)
	s.Metric.Stratify = ""
	if _, err := Score(subject.FromGraph(tinyModel(t)), s, opts); err == nil || !strings.Contains(err.Error(), "repetitions") {
		t.Errorf("split-half without repetitions: %v", err)
	}
	if _, err := Parse([]byte("name: x\nversion: 1\ncitation: c\nstimuli: {set: allen-mouse-v1, train: train, test: test}\ndata: {kind: assembly, train: {path: a.npy}, test: {path: b.npy}}\nmetric: {type: pls}\nceiling: {type: none}\n"), "x"); err == nil {
		t.Error("pls with a train/test split accepted")
	}
}

func TestBadMatVariable(t *testing.T) {
	useMirror(t, k92[0])
	dir := t.TempDir()
	mp := mirror.Path(t, k92[0])
	for _, c := range []struct {
		variable string
		want     error
	}{{"no_such_variable", neural.ErrMissingVariable}, {"stimuli_92objs", neural.ErrWrongType}} {
		s := userSpec(t, dir, fmt.Sprintf("data: {kind: assembly, path: %q, variable: %s}\nmetric: {type: rsa}\nceiling: {type: none}\n", mp, c.variable))
		_, err := Score(subject.FromGraph(tinyModel(t)), s, Options{Bootstrap: 40})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.variable) {
			t.Errorf("variable %s: %v", c.variable, err)
		}
		t.Log(err)
	}
}
