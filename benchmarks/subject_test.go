package benchmarks

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
)

// Scoring a model's activations, precomputed by activations.Extract and written with
// formats/npy (rows in the set's order, or shuffled with an ids array), gives exactly the numbers
// of scoring the model itself, on an RSA benchmark with a noise ceiling and on a PLS benchmark
// with a split-half ceiling.
func TestPrecomputedScoresLikeTheModel(t *testing.T) {
	useMirror(t, k92...)
	g := tinyModel(t)
	layers := subject.GraphDefaultLayers(g)
	set, err := LoadStimuli("kriegeskorte92", "")
	if err != nil {
		t.Fatal(err)
	}
	pre, err := stimuli.ForModel(g)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := activations.Extract(g, set, layers, activations.Options{NoCache: true, Quiet: true, Preprocess: &pre})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inOrder := map[string]*npy.Array{}
	perm := rand.New(rand.NewPCG(5, 5)).Perm(set.Len())
	ids := &npy.Array{Shape: []int{set.Len()}}
	for _, i := range perm {
		id, _ := strconv.Atoi(set.ID(i))
		ids.Data = append(ids.Data, float64(id))
	}
	shuffled := map[string]*npy.Array{"ids": ids}
	for _, l := range ext.Layers {
		f := l.Features
		a := &npy.Array{Shape: append([]int{f.Rows}, l.Shape...)}
		b := &npy.Array{Shape: a.Shape}
		for _, v := range f.Data {
			a.Data = append(a.Data, float64(v))
		}
		for _, i := range perm {
			for _, v := range f.Row(i) {
				b.Data = append(b.Data, float64(v))
			}
		}
		inOrder[l.Name], shuffled[l.Name] = a, b
	}
	var files []string
	for k, arrays := range []map[string]*npy.Array{inOrder, shuffled} {
		p := filepath.Join(dir, "feats"+strconv.Itoa(k)+".npz")
		if err := npy.WriteNPZ(p, arrays, k == 1); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}

	human, err := Load("kriegeskorte92-humanIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	writeK92Responses(t, dir, 4)
	pls := userSpec(t, dir, "data: {kind: assembly, path: resp.csv}\nmetric: {type: pls, stratify: category, components: 10}\nceiling: {type: split-half}\n")
	for _, b := range []*Spec{human, pls} {
		opts := Options{Seed: 4, Bootstrap: 50, Layers: layers}
		want, err := Score(subject.FromGraph(g), b, opts)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := want.JSON()
		for _, f := range files {
			m, err := subject.Open(f, g.Name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Score(m, b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := m.Digest(); got.ModelDigest != d {
				t.Fatalf("digest %s, want the file's %s", got.ModelDigest, d)
			}
			got.ModelDigest = want.ModelDigest
			gj, _ := got.JSON()
			if !bytes.Equal(gj, wj) {
				t.Fatalf("%s from %s:\n%s\nfrom the model:\n%s", b.Name, filepath.Base(f), gj, wj)
			}
		}
		t.Logf("%s: best layer %s, held-out %.4f: identical from the model and from both files", b.Name, want.BestLayer, want.HeldOut)
	}
}
