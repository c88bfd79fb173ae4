package benchmarks

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/subject"
)

// Errors that used to leave a new user guessing (issue 11, item 12) say what is wrong with the
// data and what to change, and do not blame the model for the data.
func TestDataErrorsSayWhy(t *testing.T) {
	useMirror(t, k92...)
	dir := t.TempDir()
	score := func(S, N int, ids []float64, data string) error {
		t.Helper()
		d := make([]float64, S*N)
		for i := range d {
			d[i] = float64(i%7) + float64(i)*0.01
		}
		arr := map[string]*npy.Array{"resp": {Shape: []int{S, N}, Data: d}}
		if ids != nil {
			arr["ids"] = &npy.Array{Shape: []int{S}, Data: ids}
		}
		if err := npy.WriteNPZ(filepath.Join(dir, "resp.npz"), arr, false); err != nil {
			t.Fatal(err)
		}
		s := userSpec(t, dir, "data: {kind: assembly, path: resp.npz, variable: resp, dims: [stimulus, neuroid]"+data+"}\nmetric: {type: rsa}\nceiling: {type: none}\n")
		_, err := Score(subject.FromGraph(tinyModel(t)), s, Options{Seed: 1, Layers: []string{"fc"}})
		return err
	}
	check := func(what string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: accepted", what)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", what, err, w)
			}
		}
	}
	// Rows numbered from 0 (a .npy's own numbering) against kriegeskorte92's ids 1..92.
	check("ids from 0", score(92, 5, nil, ""), "resp.npz", "from 0, the stimulus set from 1", "data.stimulus_ids: order", "id_offset")
	// A stimulus given twice (and another missing).
	ids := make([]float64, 93)
	for i := range ids {
		ids[i] = float64(i + 1)
	}
	ids[92] = 5
	check("repeated stimulus", score(93, 5, ids, ", stimulus_ids: ids"), "resp.npz", `duplicate stimulus id "5"`)
	// One neuroid: its correlation-distance RDM is constant, which is the data's fault.
	err := score(92, 1, nil, ", stimulus_ids: order")
	check("one neuroid", err, "resp.npz", "1 neuroid left", "at least 2 neuroids", "rdm_distance: euclidean")
	if err != nil && strings.Contains(err.Error(), "constant responses") {
		t.Errorf("one neuroid blames the model: %v", err)
	}
	// A constant data RDM.
	runPython(t, dir, `
import json, numpy as np, scipy.io as sio
r = np.full((92, 92), 0.5); np.fill_diagonal(r, 0)
sio.savemat("flat.mat", {"flat": r}); print(json.dumps({}))
`, &map[string]any{})
	s := userSpec(t, dir, "data: {kind: rdm, path: flat.mat, variable: flat}\nmetric: {type: rsa}\nceiling: {type: none}\n")
	_, err = Score(subject.FromGraph(tinyModel(t)), s, Options{Seed: 1, Layers: []string{"fc"}})
	check("constant data RDM", err, "data RDM", "is constant", "0.5")
}

// Inf activations scored by PLS (or ridge) used to fail inside the regression ("eigendecomposition
// failed"); they are refused first, naming the layer: a model's (ErrNonFinite) or a precomputed
// file's (the array, stimulus and feature).
func TestRegressionNonFiniteActivations(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	s := u.spec(t, "pls-inf", "data: {kind: assembly, path: resp.npy, dims: [neuroid, stimulus, repetition], stimulus_ids: order}\n")
	_, err := Score(subject.FromGraph(overflowModel(t)), s, Options{Seed: 1})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `layer "big2"`) || strings.Contains(err.Error(), "eigen") {
		t.Errorf("PLS on a model's Inf activations: %v", err)
	}
	feat := make([]float64, 16*3)
	for i := range feat {
		feat[i] = float64(i%5) + 0.1*float64(i)
	}
	bad := append([]float64(nil), feat...)
	bad[7] = math.Inf(1)
	m := writeModel(t, u.dir, 16, map[string][]float64{"ok": feat, "big": bad})
	_, err = Score(m, s, Options{Seed: 1})
	if err == nil || !strings.Contains(err.Error(), `array "big"`) || !strings.Contains(err.Error(), "+Inf") || strings.Contains(err.Error(), "eigen") {
		t.Errorf("PLS on precomputed Inf activations: %v", err)
	}
}
