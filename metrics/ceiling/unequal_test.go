package ceiling

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/internal/peers"
)

// The numpy side: the same splits (handed over as arrays), the halves found by ranking each
// stimulus's present repetitions with a cumulative sum, Pearson r per neuroid over the
// stimuli with at least 2 present repetitions, averaged over splits, Spearman-Brown.
const splitHalfNumpy = `
import json, sys
import numpy as np
d = sys.argv[1]
order = np.load(d + '/order.npy').astype(int)   # splits x S x R
extra = np.load(d + '/extra.npy').astype(bool)  # splits x S
out = {}
for name in ['raw', 'masked']:
    x = np.load(d + '/' + name + '.npy')        # N x S x R, NaN = missing
    N, S, R = x.shape
    rsum = np.zeros(N)
    for i in range(order.shape[0]):
        xo = x[:, np.arange(S)[:, None], order[i]]      # N x S x R in the split's order
        pres = ~np.isnan(xo)
        rank = np.cumsum(pres, axis=2)                  # 1-based rank among present reps
        k = pres.sum(axis=2, keepdims=True)
        h = k // 2
        odd = (k % 2 == 1) & pres & (rank == k)
        ina = pres & ((rank <= h) | (odd & extra[i][None, :, None]))
        inb = pres & (((rank > h) & (rank <= 2 * h)) | (odd & ~extra[i][None, :, None]))
        v = np.where(pres, xo, 0.0)
        ma = (v * ina).sum(2) / np.maximum(ina.sum(2), 1)
        mb = (v * inb).sum(2) / np.maximum(inb.sum(2), 1)
        for n in range(N):
            use = k[n, :, 0] >= 2
            rsum[n] += np.corrcoef(ma[n, use], mb[n, use])[0, 1]
    r = rsum / order.shape[0]
    sb = 2 * r / (1 + r)
    out[name] = {'per_neuroid': sb.tolist(), 'median': float(np.median(sb)),
                 'stimuli_all': int(((~np.isnan(x)).sum(2) >= 2).all(axis=0).sum())}
json.dump(out, sys.stdout)
`

// TestSplitHalfMissingNumpy checks the unequal-repetition split-half ceiling on the NaN-padded
// V4 session 201016 (82 neurons x 600 images x up to 10 repeats, 5 to 9 present) against an
// independent numpy computation given the same seeded splits, as recorded and with 10 stimuli
// cut to one repetition for every neuron and neuron-specific cuts for three neurons.
func TestSplitHalfMissingNumpy(t *testing.T) {
	p := mirror.Path(t, "cowley2023-v4/responses_raw/responses_201016.npy")
	py := peers.Python(t, "numpy")
	a, err := npy.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	N, S, R := a.Shape[0], a.Shape[1], a.Shape[2]
	if N != 82 || S != 600 || R != 10 {
		t.Fatalf("shape %v", a.Shape)
	}
	masked := append([]float64(nil), a.Data...)
	at := func(n, s, r int) int { return (n*S+s)*R + r }
	for s := 0; s < 10; s++ { // one repetition left: out of the ceiling for every neuron
		for n := 0; n < N; n++ {
			for r := 1; r < R; r++ {
				masked[at(n, s, r)] = math.NaN()
			}
		}
	}
	for n := 0; n < 3; n++ { // neuron-specific: 40 more stimuli lose all but one repetition
		for s := 100 + 50*n; s < 140+50*n; s++ {
			for r := 1; r < R; r++ {
				masked[at(n, s, r)] = math.NaN()
			}
		}
	}
	dir := t.TempDir()
	splits := DrawSplits(S, R, 100, 11)
	order := &npy.Array{Shape: []int{len(splits), S, R}}
	extra := &npy.Array{Shape: []int{len(splits), S}}
	for _, sp := range splits {
		for s := 0; s < S; s++ {
			for _, r := range sp.Order[s] {
				order.Data = append(order.Data, float64(r))
			}
			e := 0.0
			if sp.Extra[s] {
				e = 1
			}
			extra.Data = append(extra.Data, e)
		}
	}
	for name, arr := range map[string]*npy.Array{"order": order, "extra": extra, "raw": a, "masked": {Shape: a.Shape, Data: masked}} {
		if err := npy.Write(filepath.Join(dir, name+".npy"), arr); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", splitHalfNumpy, dir).Output()
	if err != nil {
		t.Fatalf("numpy: %v", err)
	}
	var want map[string]struct {
		PerNeuroid []float64 `json:"per_neuroid"`
		Median     float64   `json:"median"`
		StimuliAll int       `json:"stimuli_all"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []float64
	}{{"raw", a.Data}, {"masked", masked}} {
		// neuroid x stimulus x rep -> stimulus x neuroid x rep
		sx := make([]float64, len(c.data))
		for n := 0; n < N; n++ {
			for s := 0; s < S; s++ {
				copy(sx[(s*N+n)*R:(s*N+n+1)*R], c.data[at(n, s, 0):at(n, s, 0)+R])
			}
		}
		x, err := NewResponsesMissing(S, N, R, sx)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := SplitHalfMissing(x, splits)
		if err != nil {
			t.Fatal(err)
		}
		w := want[c.name]
		var worst float64
		for n := range rel.PerNeuroid {
			worst = math.Max(worst, math.Abs(rel.PerNeuroid[n]-w.PerNeuroid[n]))
		}
		if !(worst < 1e-9) || math.Abs(rel.Median-w.Median) > 1e-9 || rel.Stimuli != w.StimuliAll || rel.Neuroids != N {
			t.Fatalf("%s: per-neuroid max difference %g, median %v (numpy %v), stimuli %d (numpy %d), neuroids %d",
				c.name, worst, rel.Median, w.Median, rel.Stimuli, w.StimuliAll, rel.Neuroids)
		}
		t.Logf("%s: median split-half ceiling %.6f over %d neuroids, %d stimuli used for every neuroid; max difference from numpy %.2g",
			c.name, rel.Median, rel.Neuroids, rel.Stimuli, worst)
		if c.name == "masked" && (rel.Stimuli != 470 || rel.StimuliPerNeuroid[0] != 550 || rel.StimuliPerNeuroid[5] != 590) {
			t.Fatalf("stimuli used: %d, per neuroid %v", rel.Stimuli, rel.StimuliPerNeuroid[:6])
		}
	}
}

// Unequal repetitions: a stimulus with one repetition is left out, an odd count puts its extra
// repetition in the half the split names; checked by hand on a tiny case.
func TestSplitHalfMissingByHand(t *testing.T) {
	nan := math.NaN()
	// 4 stimuli, 1 neuroid, 3 reps.
	data := []float64{1, 3, nan, 2, 6, 4, 5, nan, nan, 7, 9, 8}
	x, err := NewResponsesMissing(4, 1, 3, data)
	if err != nil {
		t.Fatal(err)
	}
	sp := Split{Order: [][]int{{0, 1, 2}, {2, 0, 1}, {0, 1, 2}, {1, 2, 0}}, Extra: []bool{true, true, false, false}}
	rel, err := SplitHalfMissing(x, []Split{sp})
	if err != nil {
		t.Fatal(err)
	}
	// stimulus 0: present 0,1 -> A {1}, B {3}; stimulus 1: order 2,0,1 -> A {4}, B {2}, extra 6 -> A: 5;
	// stimulus 2: one rep, left out; stimulus 3: order 1,2,0 -> A {9}, B {8}, extra 7 -> B: 7.5.
	a, b := []float64{1, 5, 9}, []float64{3, 2, 7.5}
	r := pearson3(a, b)
	if math.Abs(rel.HalfR[0]-r) > 1e-12 || math.Abs(rel.PerNeuroid[0]-2*r/(1+r)) > 1e-12 || rel.Stimuli != 3 || rel.StimuliPerNeuroid[0] != 3 {
		t.Fatalf("half r %v (want %v), stimuli %d", rel.HalfR[0], r, rel.Stimuli)
	}
	if _, err := NewResponsesMissing(4, 1, 3, append(data[:11:11], math.Inf(1))); err == nil {
		t.Fatal("an infinite response was accepted")
	}
}

func pearson3(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i] / float64(len(a))
		mb += b[i] / float64(len(b))
	}
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
