package benchmarks

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/subject"
)

// Responses scaled by 1e39 (beyond float32's 3.4e38) score as the unscaled ones do: every
// metric here is invariant to one scale of the responses (correlation-distance RDMs, PLS and
// ridge predictions scored by Pearson r, a split-half ceiling), so a difference means the data
// went through float32 and overflowed, which used to give wrong scores without a word.
func TestNeuralDataBeyondFloat32(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	a, err := npy.Read(filepath.Join(u.dir, "resp.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data {
		a.Data[i] *= 1e39
	}
	if err := npy.Write(filepath.Join(u.dir, "big.npy"), a); err != nil {
		t.Fatal(err)
	}
	m := subject.FromGraph(zooModel(t, "cornet-z"))
	for _, metric := range []string{
		"metric: {type: rsa, bootstrap: 40}\nceiling: {type: none}\n",
		"metric: {type: pls, folds: 2, components: 4, bootstrap: 40}\nceiling: {type: split-half}\n",
	} {
		var rs [2]*Result
		for k, file := range []string{"resp.npy", "big.npy"} {
			s := loadSpecIn(t, u.dir, "stimuli: {path: images.zip, degrees: 4}\ndata: {kind: assembly, path: "+file+", dims: [neuroid, stimulus, repetition], stimulus_ids: order}\n"+metric)
			if rs[k], err = Score(m, s, Options{Seed: 2}); err != nil {
				t.Fatalf("%s %s: %v", metric, file, err)
			}
		}
		near := func(what string, a, b float64) {
			if !(math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(a))) {
				t.Errorf("%s: %s %v on the data, %v on the data x 1e39", metric, what, a, b)
			}
		}
		near("held-out score", rs[0].HeldOut, rs[1].HeldOut)
		near("ceiling", rs[0].Ceiling.Value, rs[1].Ceiling.Value)
		for i := range rs[0].Layers {
			near(rs[0].Layers[i].Layer, rs[0].Layers[i].Score, rs[1].Layers[i].Score)
		}
	}
}

func loadSpecIn(t *testing.T, dir, body string) *Spec {
	t.Helper()
	return loadSpec(t, dir, body)
}
