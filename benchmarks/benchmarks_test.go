package benchmarks

import (
	"bytes"
	"errors"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/metrics/regression"
	"github.com/ventral-lab/ventral/metrics/rsa"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/nn"
)

// useMirror points the dataset registry at the shared mirror (skipping, or failing under CI,
// when the files are missing) and its cache at a temporary folder.
func useMirror(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		mirror.Path(t, f)
	}
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
}

var k92 = []string{"kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat", "kriegeskorte92/92_brainRDMs.mat"}

func tinyModel(t *testing.T) *nn.Graph {
	t.Helper()
	g, err := nn.ParseSpec([]byte(`
name: tiny
input: [3, 32, 32]
layers:
  - {name: conv1, type: conv2d, out: 8, kernel: 5, stride: 2}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 16}
`), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	return g
}

// The Spearman correlation of the monkey and human IT RDMs over the 4,186 pairs is 0.44
// (Kriegeskorte et al. 2008).
func TestMonkeyVsHumanIT(t *testing.T) {
	p := mirror.Path(t, k92[0])
	fig1, err := neural.ReadRDMsMAT(p, "RDMs_mIT_hIT_fig1", neural.MATRDMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, h := fig1.UpperTriangle(0), fig1.UpperTriangle(1)
	if len(m) != 4186 {
		t.Fatalf("%d pairs", len(m))
	}
	r := rsa.CompareVectors(m, h, rsa.Spearman)
	t.Logf("Spearman(monkey IT, human IT) over %d pairs = %.6f", len(m), r)
	if math.Round(r*100)/100 != 0.44 {
		t.Fatalf("Spearman = %.6f, expected 0.44", r)
	}
	// The figure-1 human IT RDM is the mean of the 8 subject-session RDMs.
	subj, err := neural.ReadRDMsMAT(mirror.Path(t, k92[1]), "RDMs", neural.MATRDMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rsa.CompareVectors(h, neural.UpperTriangle(subj.Mean(), 92), rsa.Spearman); r < 0.999 {
		t.Fatalf("human IT RDM vs mean of subjects: %.6f", r)
	}
}

func TestScoreHumanITDeterministic(t *testing.T) {
	useMirror(t, k92...)
	g := tinyModel(t)
	b, err := Load("kriegeskorte92-humanIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Seed: 1, Bootstrap: 200, CacheDir: t.TempDir()}
	r1, err := Score(subject.FromGraph(g), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := r1.Ceiling
	t.Logf("noise ceiling: lower %.4f upper %.4f", c.Lower, c.Upper)
	checkHumanITAgainstScipy(t, subject.FromGraph(g), b, r1)
	if len(r1.Layers) != 4 || r1.BestLayer == "" { // every layer but the flatten
		t.Fatalf("result %+v", r1)
	}
	for _, l := range r1.Layers {
		if math.IsNaN(l.Score) || l.Normalized == nil || !(l.CILow <= l.Score && l.Score <= l.CIHigh) {
			t.Errorf("layer %+v", l)
		}
	}
	var tab bytes.Buffer
	if err := r1.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tab.String())
	if !strings.Contains(tab.String(), "*") {
		t.Error("best layer not marked")
	}
	// Scoring again (activations now from the cache, and without) gives identical numbers.
	r2, err := Score(subject.FromGraph(g), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.CacheDir = ""
	r3, err := Score(subject.FromGraph(g), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := r1.JSON()
	j2, _ := r2.JSON()
	j3, _ := r3.JSON()
	if !bytes.Equal(j1, j2) || !bytes.Equal(j1, j3) {
		t.Fatalf("scores differ between runs:\n%s\n%s", j1, j2)
	}
}

func TestScoreMonkeyIT(t *testing.T) {
	useMirror(t, k92[0])
	b, err := Load("kriegeskorte92-monkeyIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Score(subject.FromGraph(tinyModel(t)), b, Options{Seed: 3, Bootstrap: 100, Layers: []string{"relu1", "fc"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ceiling.Method != "none" || r.Layers[0].Normalized != nil || r.SecondLayer == "" {
		t.Fatalf("%+v", r)
	}
	checkLayerSamples(t, r)
}

// checkLayerSamples checks that Result.LayerSamples are the resamples behind each layer's
// interval: one row per layer, Bootstrap draws, and their 2.5/97.5 percentiles the interval.
func checkLayerSamples(t *testing.T, r *Result) {
	t.Helper()
	if len(r.LayerSamples) != len(r.Layers) {
		t.Fatalf("%d rows of layer samples for %d layers", len(r.LayerSamples), len(r.Layers))
	}
	for i, l := range r.Layers {
		lo, hi := ciOf(r.LayerSamples[i])
		if len(r.LayerSamples[i]) != r.Bootstrap || lo != l.CILow || hi != l.CIHigh {
			t.Errorf("layer %s: %d samples with interval [%v, %v], the layer's is [%v, %v]", l.Layer, len(r.LayerSamples[i]), lo, hi, l.CILow, l.CIHigh)
		}
	}
}

func TestScoreAllenRidge(t *testing.T) {
	useMirror(t, "allen-mouse-v1/Allen_train_input.npy", "allen-mouse-v1/Allen_test_input.npy",
		"allen-mouse-v1/Allen_train_output.npy", "allen-mouse-v1/Allen_test_output.npy")
	b, err := Load("allen-mouseV1-ridge")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Score(subject.FromGraph(tinyModel(t)), b, Options{Seed: 1, Bootstrap: 100})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	r.WriteTable(&tab)
	t.Log("\n" + tab.String())
	if math.IsNaN(r.HeldOut) || r.BestLayer == "" {
		t.Fatalf("%+v", r)
	}
	// The values, with one penalty (no inner choice), against scikit-learn.
	one := *b
	one.Metric.Alphas = []float64{0.1}
	m := subject.FromGraph(tinyModel(t))
	r1, err := Score(m, &one, Options{Seed: 1, Bootstrap: 40, Layers: []string{"relu1", "fc"}})
	if err != nil {
		t.Fatal(err)
	}
	tr, te := allenOutputs(t)
	checkRidgeAgainstSklearn(t, m, &one, r1, tr, te)
	checkLayerSamples(t, r)
	// More folds than training stimuli is a clear error.
	b.Metric.Folds = 101
	if _, err := Score(subject.FromGraph(tinyModel(t)), b, Options{}); !errors.Is(err, ErrTooFewStimuli) || !strings.Contains(err.Error(), "101 folds") {
		t.Fatalf("folds: %v", err)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	if len(Builtin()) != 5 {
		t.Fatalf("built-in: %v", Builtin())
	}
	for _, name := range Builtin() {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		y, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Parse(y, name+"(again)")
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, y)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("%s: round trip differs:\n%+v\n%+v", name, s, s2)
		}
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := Load("no-such-benchmark"); !errors.Is(err, ErrUnknownBenchmark) || !strings.Contains(err.Error(), "kriegeskorte92-humanIT-rsa") {
		t.Errorf("unknown benchmark: %v", err)
	}
	y, _ := Load("kriegeskorte92-monkeyIT-rsa")
	raw, _ := y.Marshal()
	bad := strings.Replace(string(raw), "region: IT", "region: IT\nregoin: V4", 1)
	if _, err := Parse([]byte(bad), "bad.yaml"); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("unknown key: %v", err)
	}
	bad = strings.Replace(string(raw), "comparison: spearman", "comparison: spearman\n  folds: 3", 1)
	if _, err := Parse([]byte(bad), "bad.yaml"); err == nil {
		t.Errorf("rsa with folds accepted")
	}
	// A user spec whose data name other stimuli than the set's.
	useMirror(t, k92[0])
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("stimulus_id,n1,n2\n")
	for i := 1; i <= 92; i++ {
		id := itoa(i)
		if i >= 90 {
			id = "img" + id // three ids the stimulus set does not have
		}
		csv.WriteString(id + "," + itoa(i%7) + "," + itoa(i%5) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "resp.csv"), []byte(csv.String()), 0o644)
	spec := `name: user-bench
version: 1
citation: none
region: IT
stimuli: {set: kriegeskorte92}
data: {kind: assembly, path: resp.csv}
metric: {type: rsa}
ceiling: {type: none}
`
	p := filepath.Join(dir, "user.yaml")
	os.WriteFile(p, []byte(spec), 0o644)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Score(subject.FromGraph(tinyModel(t)), s, Options{Bootstrap: 40})
	if !errors.Is(err, neural.ErrStimulusMismatch) {
		t.Fatalf("mismatched ids: %v", err)
	}
	t.Log(err)
	if _, err := regression.KFold(3, 5, nil, 0); err == nil {
		t.Errorf("folds: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestScoreRefusesHMAXWithoutPrototypes(t *testing.T) {
	g, err := models.Get("hmax")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	b, err := Load("kriegeskorte92-monkeyIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Score(subject.FromGraph(g), b, Options{}); err == nil || !strings.Contains(err.Error(), "prototypes") {
		t.Errorf("HMAX without prototypes: %v", err)
	}
}
