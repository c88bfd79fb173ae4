package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/train"
)

const tinySpec = `name: tiny
input: [3, 32, 32]
layers:
  - {name: conv1, type: conv2d, out: 8, kernel: 5, stride: 2}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 16}
`

// Scores a tiny model spec on the monkey IT benchmark through the CLI, checks the table and
// that the run lands in the results database under VENTRAL_HOME and on the leaderboard, then
// scores a checkpoint of the same model (its weights, not a fresh initialisation).
func TestScoreLeaderboard(t *testing.T) {
	mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	home := t.TempDir()
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", home)
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(spec, []byte(tinySpec), 0o644); err != nil {
		t.Fatal(err)
	}
	const bench = "kriegeskorte92-monkeyIT-rsa"
	out := execute(t, "score", "--model", spec, "--benchmark", bench, "--bootstrap", "40", "--seed", "3",
		"--json=false", "--no-record=false", "--layers=", "--cache", filepath.Join(home, "activations"))
	t.Log("\n" + out)
	lines := strings.Split(out, "\n")
	var header string
	for _, l := range lines {
		if strings.Contains(l, "layer") && strings.Contains(l, "score") {
			header = l
			break
		}
	}
	if got, want := strings.Fields(strings.ReplaceAll(header, "95% interval", "95%-interval")), []string{"layer", "score", "ceiling", "normalised", "95%-interval"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("table columns %q, want %q", got, want)
	}
	rows := 0
	best := ""
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "*" {
			best = f[1]
			f = f[1:]
		}
		if len(f) == 6 && strings.HasPrefix(f[4], "[") {
			rows++
		}
	}
	if rows != 4 || best == "" { // every layer of the tiny spec but its flatten
		t.Fatalf("%d layer rows, best %q", rows, best)
	}
	db := filepath.Join(home, "results.db")
	if !strings.Contains(out, "recorded in "+db) {
		t.Fatalf("not recorded in %s", db)
	}
	d, err := results.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	board, err := d.Leaderboard()
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	e, ok := board.Cells["tiny"][bench]
	if !ok || e.BestLayer != best || e.Normalized != nil {
		t.Fatalf("leaderboard cell %+v (ok %v), best layer %s", e, ok, best)
	}
	lb := execute(t, "leaderboard", "--json=false")
	t.Log("\n" + lb)
	if !strings.Contains(lb, "tiny") || !strings.Contains(lb, bench) || !strings.Contains(lb, best) {
		t.Fatalf("leaderboard lacks the run:\n%s", lb)
	}

	// A checkpoint of the model: scored with its saved weights.
	g, err := nn.ParseSpec([]byte(tinySpec), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(11); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.MkdirAll(run, 0o755)
	if err := train.SaveWeights(filepath.Join(run, train.CheckpointFile), g, nil); err != nil {
		t.Fatal(err)
	}
	js := execute(t, "score", "--model", run, "--benchmark", bench, "--bootstrap", "40", "--json", "--no-record", "--layers", "fc")
	var r benchmarks.Result
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	want, _ := g.Digest()
	if r.ModelDigest != want || r.BestLayer != "fc" {
		t.Fatalf("checkpoint scored as digest %s layer %s, want %s", r.ModelDigest, r.BestLayer, want)
	}
	if _, err := executeErr("score", "--model", dir, "--benchmark", bench, "--no-record", "--json=false", "--layers="); err == nil || !strings.Contains(err.Error(), "without a checkpoint") {
		t.Fatalf("a folder without a checkpoint: %v", err)
	}
}

func executeErr(args ...string) (string, error) {
	var out strings.Builder
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

// `ventral score --activations` scores a model's precomputed activations (an .npz written from
// activations.Extract) with the numbers `ventral score --model` gives the model itself.
func TestScoreActivationsFlag(t *testing.T) {
	mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	sc, _, err := rootCmd.Find([]string{"score"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range []string{"activations", "name", "model", "layers"} {
			sc.Flags().Set(f, "")
		}
		sc.Flags().Set("json", "false")
		sc.Flags().Set("no-record", "false")
	})
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(spec, []byte(tinySpec), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := nn.ParseSpec([]byte(tinySpec), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	set, err := benchmarks.LoadStimuli("kriegeskorte92", "")
	if err != nil {
		t.Fatal(err)
	}
	pre, err := stimuli.ForModel(g)
	if err != nil {
		t.Fatal(err)
	}
	layers := []string{"relu1", "pool1", "fc"}
	ext, err := activations.Extract(g, set, layers, activations.Options{NoCache: true, Quiet: true, Preprocess: &pre})
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
	feats := filepath.Join(dir, "feats.npz")
	if err := npy.WriteNPZ(feats, arrays, false); err != nil {
		t.Fatal(err)
	}
	const bench = "kriegeskorte92-monkeyIT-rsa"
	common := []string{"--benchmark", bench, "--bootstrap", "40", "--seed", "3", "--json", "--no-record", "--layers", strings.Join(layers, ",")}
	var res [2]benchmarks.Result
	for i, src := range [][]string{{"--model", spec, "--activations="}, {"--activations", feats, "--name", "tiny-elsewhere", "--model="}} {
		out := execute(t, append(append([]string{"score"}, src...), common...)...)
		if err := json.Unmarshal([]byte(out), &res[i]); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	a, _ := json.Marshal(res[0].Layers)
	b, _ := json.Marshal(res[1].Layers)
	if string(a) != string(b) || res[0].BestLayer != res[1].BestLayer || res[0].HeldOut != res[1].HeldOut {
		t.Fatalf("--model:\n%s\n--activations:\n%s", a, b)
	}
	if res[1].Model != "tiny-elsewhere" || !strings.HasPrefix(res[1].ModelDigest, "sha256:") {
		t.Fatalf("model %q digest %q", res[1].Model, res[1].ModelDigest)
	}
	if _, err := executeErr("score", "--model", spec, "--activations", feats, "--benchmark", bench); err == nil || !strings.Contains(err.Error(), "one of --model and --activations") {
		t.Fatalf("both sources: %v", err)
	}
}
