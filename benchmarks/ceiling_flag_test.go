package benchmarks

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
)

// toyStimuli makes LoadStimuli serve a set "toy" of n blank stimuli with ids "1".."n" (the
// models scoring it are precomputed, so the images never matter) and, for splits, "toy/train"
// and "toy/test" of ntr and n-ntr of them.
func toyStimuli(t *testing.T, n, ntr int) {
	t.Helper()
	old := LoadStimuli
	LoadStimuli = func(set, split string) (*stimuli.Set, error) {
		if set != "toy" {
			return old(set, split)
		}
		lo, hi, name := 0, n, "toy"
		switch split {
		case "train":
			hi, name = ntr, "toy/train"
		case "test":
			lo, name = ntr, "toy/test"
		}
		var ids []string
		var imgs []*tensor.Tensor
		for i := lo; i < hi; i++ {
			ids = append(ids, fmt.Sprint(i+1))
			imgs = append(imgs, tensor.New(1, 4, 4))
		}
		return stimuli.FromTensors(name, ids, imgs)
	}
	t.Cleanup(func() { LoadStimuli = old })
}

// A model that predicts the noise-free signal scores r = sqrt(reliability) with the mean of
// noisy repetitions, so r / reliability is above 1: the result flags it in JSON and in the table.
func TestAboveCeilingFlagged(t *testing.T) {
	const n, N, reps = 60, 3, 2
	toyStimuli(t, n, 0)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	signal := &npy.Array{Shape: []int{n, N}}
	noise := &npy.Array{Shape: []int{n, 4}}
	var csv strings.Builder
	csv.WriteString("stimulus_id,neuroid_id,repetition,value\n")
	for i := 0; i < n; i++ {
		for k := 0; k < N; k++ {
			s := rng.NormFloat64()
			signal.Data = append(signal.Data, s)
			for r := 0; r < reps; r++ {
				fmt.Fprintf(&csv, "%d,n%d,%d,%g\n", i+1, k, r, s+1.5*rng.NormFloat64())
			}
		}
		for k := 0; k < 4; k++ {
			noise.Data = append(noise.Data, rng.NormFloat64())
		}
	}
	os.WriteFile(filepath.Join(dir, "resp.csv"), []byte(csv.String()), 0o644)
	feats := filepath.Join(dir, "feats.npz")
	if err := npy.WriteNPZ(feats, map[string]*npy.Array{"signal": signal, "noise": noise}, false); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "b.yaml")
	os.WriteFile(p, []byte("name: toy-pls\nversion: 1\ncitation: none\nregion: IT\nstimuli: {set: toy}\ndata: {kind: assembly, path: resp.csv}\nmetric: {type: pls, folds: 5, components: 3}\nceiling: {type: split-half}\n"), 0o644)
	b, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := subject.Open(feats, "oracle")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Score(m, b, Options{Seed: 1, Bootstrap: 40})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	r.WriteTable(&tab)
	t.Log("\n" + tab.String())
	byName := map[string]LayerScore{}
	for _, l := range r.Layers {
		byName[l.Layer] = l
	}
	sig, noi := byName["signal"], byName["noise"]
	if sig.Normalized == nil || !(*sig.Normalized > 1) || !sig.AboveCeiling {
		t.Fatalf("signal layer %+v: expected a flagged normalised score above 1", sig)
	}
	if noi.Normalized == nil || *noi.Normalized > 1 || noi.AboveCeiling {
		t.Fatalf("noise layer %+v: expected no flag", noi)
	}
	if r.HeldOutNormalized == nil || (*r.HeldOutNormalized > 1) != r.HeldOutAboveCeiling {
		t.Fatalf("held-out %v flag %v", r.HeldOutNormalized, r.HeldOutAboveCeiling)
	}
	js, _ := r.JSON()
	if strings.Count(string(js), `"above_ceiling": true`) != 1 {
		t.Fatalf("JSON:\n%s", js)
	}
	out := tab.String()
	if !strings.Contains(out, fmt.Sprintf("%.3f%s", *sig.Normalized, AboveCeilingMark)) || !strings.Contains(out, AboveCeilingNote) ||
		strings.Contains(out, fmt.Sprintf("%.3f%s", *noi.Normalized, AboveCeilingMark)) || !strings.Contains(strings.Join(r.Warnings, "\n"), "above 1 (signal") {
		t.Fatalf("table does not mark the score above 1:\n%s", out)
	}
}
