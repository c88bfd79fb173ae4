package benchmarks

import (
	"bytes"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/subject"
)

// recurrentTiny is a small recurrent convolutional model, 4 steps: h(t) = tanh(conv(x) +
// lat(h(t-1))), so that h's responses change from step to step.
func recurrentTiny(t *testing.T) *nn.Graph {
	t.Helper()
	g, err := nn.ParseSpec([]byte(`
name: rec
input: [3, 24, 24]
steps: 4
layers:
  - {name: conv, type: conv2d, inputs: [input], out: 6, kernel: 5, stride: 2}
  - {name: lat, type: conv2d, inputs: ["h@prev"], out: 6, kernel: 3, pad: 1, init: glorot}
  - {name: sum, type: add, inputs: [conv, lat]}
  - {name: h, type: tanh}
`), "rec")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	return g
}

// A synthetic recording whose time bin k holds a noisy copy of the model's h units at
// step k-1 (bin 0 is noise, before the model's first step): the time course must find each bin's
// step on that diagonal, and its scores must equal an independent computation of Spearman's
// correlation between correlation-distance RDMs.
func TestTimeCourseKnownLag(t *testing.T) {
	u := writeUserBench(t, 30, 3)
	g := recurrentTiny(t)
	model := subject.FromGraph(g)
	spec := func() *Spec {
		p := filepath.Join(u.dir, "tc.yaml")
		os.WriteFile(p, []byte("name: tc\nversion: 1\ncitation: synthetic\nregion: IT\nstimuli: {path: images.zip, degrees: 4}\n"+
			"data: {kind: assembly, path: resp_t.npy, dims: [stimulus, neuroid, time_bin], stimulus_ids: order}\n"+
			"metric: {type: rsa}\nceiling: {type: none}\n"), 0o644)
		s, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := spec()
	set, err := s.StimulusSet("")
	if err != nil {
		t.Fatal(err)
	}
	steps := g.StepLayers("h")
	feats, err := model.Activations(set, steps, subject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	S, N, T := set.Len(), feats[0].Cols, 5
	rng := rand.New(rand.NewPCG(4, 4))
	arr := &npy.Array{Shape: []int{S, N, T}, Data: make([]float64, S*N*T)}
	for i := 0; i < S; i++ {
		for n := 0; n < N; n++ {
			for k := 0; k < T; k++ {
				v := rng.NormFloat64()
				if k > 0 {
					v = float64(feats[k-1].At(i, n)) + 0.02*v
				}
				arr.Data[(i*N+n)*T+k] = v
			}
		}
	}
	if err := npy.Write(filepath.Join(u.dir, "resp_t.npy"), arr); err != nil {
		t.Fatal(err)
	}
	tc, err := ScoreTimeCourse(model, spec(), "h", Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	tc.WriteTable(&tab)
	t.Log("\n" + tab.String())
	if len(tc.Steps) != 4 || tc.Steps[3] != "h@t3" || len(tc.Bins) != 5 {
		t.Fatalf("steps %v, bins %v", tc.Steps, tc.Bins)
	}
	for k := 1; k < T; k++ {
		if tc.Best[k] != k-1 {
			t.Errorf("time bin %d: best step %d, want %d (the bin copies step %d)", k, tc.Best[k], k-1, k-1)
		}
		for st := range tc.Steps {
			if st != k-1 && tc.Scores[st][k] > tc.Scores[k-1][k]-0.01 {
				t.Errorf("time bin %d: step %d scores %.4f, too close to the true step's %.4f: the steps are not told apart", k, st, tc.Scores[st][k], tc.Scores[k-1][k])
			}
		}
	}
	// Independent check of every entry: RDMs as 1 - Pearson r in float64, Spearman by ranks.
	for st := range tc.Steps {
		m := refRDM(func(i, j int) float64 { return float64(feats[st].At(i, j)) }, S, feats[st].Cols)
		for k := 0; k < T; k++ {
			d := refRDM(func(i, n int) float64 { return arr.Data[(i*N+n)*T+k] }, S, N)
			if want := refSpearman(m, d); math.Abs(tc.Scores[st][k]-want) > 1e-4 {
				t.Errorf("score[h@t%d][bin %d] = %.6f, independent %.6f", st, k, tc.Scores[st][k], want)
			}
		}
	}
	var cs bytes.Buffer
	if err := tc.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 1+4*5 || recs[0][3] != "score" {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	if got := tc.BestSteps(); !strings.HasSuffix(got, "h@t0,h@t1,h@t2,h@t3") {
		t.Errorf("best steps %s", got)
	}
	// A feed-forward layer name, and a model without steps, are refused with the reason.
	if _, err := ScoreTimeCourse(subject.FromGraph(tinyModel(t)), spec(), "conv1", Options{}); err == nil || !strings.Contains(err.Error(), "conv1@t0") {
		t.Errorf("feed-forward model: %v", err)
	}
	if _, err := ScoreTimeCourse(model, spec(), "nosuch", Options{}); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown layer: %v", err)
	}
	// The per-step layers are ordinary layers for Score as well.
	r, err := Score(model, spec(), Options{Layers: steps, Seed: 1, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 4 || r.Layers[2].Layer != "h@t2" {
		t.Fatalf("score layers %+v", r.Layers)
	}
}

func refRDM(at func(i, j int) float64, S, F int) []float64 {
	var up []float64
	row := func(i int) []float64 {
		x := make([]float64, F)
		var m float64
		for j := range x {
			x[j] = at(i, j)
			m += x[j] / float64(F)
		}
		var ss float64
		for j := range x {
			x[j] -= m
			ss += x[j] * x[j]
		}
		for j := range x {
			x[j] /= math.Sqrt(ss)
		}
		return x
	}
	rows := make([][]float64, S)
	for i := range rows {
		rows[i] = row(i)
	}
	for i := 0; i < S; i++ {
		for j := i + 1; j < S; j++ {
			var r float64
			for f := 0; f < F; f++ {
				r += rows[i][f] * rows[j][f]
			}
			up = append(up, 1-r)
		}
	}
	return up
}

func refSpearman(a, b []float64) float64 {
	rank := func(x []float64) []float64 {
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return x[idx[i]] < x[idx[j]] })
		r := make([]float64, len(x))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j)/2 + 1
			}
			i = j + 1
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i] / float64(len(ra))
		mb += rb[i] / float64(len(rb))
	}
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
