package benchmarks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/subject"
)

// An RSA score computed one small group of layers at a time (a budget of one layer, so every
// layer is its own group, forward pass or cache read) equals the score computed with every
// layer's activations in memory at once, with and without a cache; with a cache the model is run
// once and each group is read back from it.
func TestRSAMemoryBudgetGivesTheSameScores(t *testing.T) {
	useMirror(t, k92...)
	g := tinyModel(t)
	m := subject.FromGraph(g)
	layers := subject.GraphDefaultLayers(g)
	if len(layers) < 3 {
		t.Fatalf("tiny model has %d layers; the test needs several groups", len(layers))
	}
	groups, err := layerGroups(m, layers, 92, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != len(layers) {
		t.Fatalf("a 1-byte budget made %d groups of %d layers, want one per layer", len(groups), len(layers))
	}
	all, err := layerGroups(m, layers, 92, 1<<40)
	if err != nil || len(all) != 1 {
		t.Fatalf("a huge budget made %d groups (err %v), want 1", len(all), err)
	}
	human, err := Load("kriegeskorte92-humanIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	base := Options{Seed: 3, Bootstrap: 40, Layers: layers, MemoryBudget: 1 << 40}
	want, err := Score(m, human, base)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, o := range []Options{
		{Seed: 3, Bootstrap: 40, Layers: layers, MemoryBudget: 1},
		{Seed: 3, Bootstrap: 40, Layers: layers, MemoryBudget: 1, CacheDir: cache},
	} {
		got, err := Score(m, human, o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Layers, want.Layers) || got.BestLayer != want.BestLayer || got.HeldOut != want.HeldOut {
			t.Fatalf("budget %d cache %q: scores differ from the all-at-once scores:\n got %+v\nwant %+v", o.MemoryBudget, o.CacheDir, got.Layers, want.Layers)
		}
	}
	// The cached run stored every layer in one pass: one entry per layer.
	n := 0
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".act") {
			n++
		}
		return nil
	})
	if n != len(layers) {
		t.Fatalf("cache holds %d entries, want one per layer (%d)", n, len(layers))
	}
}
