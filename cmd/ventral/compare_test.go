package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// Compares a random-weight model with the same spec initialised by the seed on a tiny RSA
// benchmark (a stand-in stimulus set) through the CLI: the table, the answer line, CSV and
// JSON, and the error for an unknown model.
func TestCompareCLI(t *testing.T) {
	const n = 10
	rng := rand.New(rand.NewPCG(5, 6))
	var ids []string
	var imgs []*tensor.Tensor
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprint(i))
		img := tensor.New(3, 32, 32)
		for k := range img.Data {
			img.Data[k] = rng.Float32()
		}
		imgs = append(imgs, img)
	}
	old := benchmarks.LoadStimuli
	benchmarks.LoadStimuli = func(set, split string) (*stimuli.Set, error) {
		if set == "tiny-cli" {
			return stimuli.FromTensors(set, ids, imgs)
		}
		return old(set, split)
	}
	defer func() { benchmarks.LoadStimuli = old }()
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("stimulus_id,a,b,c\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "%d,%.3f,%.3f,%.3f\n", i, rng.Float64(), rng.Float64(), float64(i%3))
	}
	os.WriteFile(filepath.Join(dir, "resp.csv"), []byte(csv.String()), 0o644)
	bench := filepath.Join(dir, "bench.yaml")
	os.WriteFile(bench, []byte(`name: tiny-cli-rsa
version: 1
citation: none
region: IT
stimuli: {set: tiny-cli}
data: {kind: assembly, path: resp.csv}
metric: {type: rsa, bootstrap: 40}
ceiling: {type: none}
`), 0o644)
	spec := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(spec, []byte(tinySpec), 0o644)
	csvPath := filepath.Join(dir, "table.csv")
	out := execute(t, "compare", "--models", "random:"+spec+","+spec, "--benchmarks", bench, "--seed", "2",
		"--no-record", "--quiet", "--csv", csvPath, "--json=false")
	t.Log("\n" + out)
	for _, want := range []string{"random:tiny", "untrained", "tiny-cli-rsa", "best layer", "95% interval",
		"tiny-cli-rsa (IT): ", "no HMAX model was compared", "table written to " + csvPath} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	b, err := os.ReadFile(csvPath)
	if err != nil || strings.Count(string(b), "\n") != 3 || !strings.HasPrefix(string(b), "model,label,network,kind") {
		t.Errorf("csv (%v):\n%s", err, b)
	}
	js := execute(t, "compare", "--models", "random:"+spec+","+spec, "--benchmarks", bench, "--seed", "2",
		"--no-record", "--quiet", "--csv=", "--json")
	var tb struct {
		Rows []struct {
			Model, Kind, BestLayer string
		} `json:"rows"`
		Answers []string `json:"answers"`
	}
	if err := json.Unmarshal([]byte(js), &tb); err != nil || len(tb.Rows) != 2 || len(tb.Answers) != 1 {
		t.Fatalf("json (%v):\n%s", err, js)
	}
	if _, err := executeErr("compare", "--models", "hmax,alexnett", "--no-record", "--json=false"); err == nil ||
		!strings.Contains(err.Error(), `"alexnett"`) || !strings.Contains(err.Error(), "alexnet-torchvision") {
		t.Errorf("unknown model: %v", err)
	}
}
