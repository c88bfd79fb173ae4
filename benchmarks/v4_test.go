package benchmarks

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
)

var v4Files = []string{"cowley2023-v4/images/images_210224.zip", "cowley2023-v4/responses_repeat_averaged/responses_210224.npy"}

// The built-in V4 benchmark is a spec file only: its stimuli (the registered zip, image0001.jpg
// ... in row order) and its repeat-averaged data (neurons x images) load through the generic
// loaders, and an untrained CORnet-Z at 64 px scores end to end with finite raw scores and no
// ceiling.
func TestV4BenchmarkEndToEnd(t *testing.T) {
	useMirror(t, v4Files...)
	s, err := Load("cowley2023-v4-210224-pls")
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.StimulusSet("")
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 800 || set.ID(0) != "image0001.jpg" || set.ID(799) != "image0800.jpg" {
		t.Fatalf("stimuli: %d, %s ... %s", set.Len(), set.ID(0), set.ID(set.Len()-1))
	}
	img, err := set.Image(0)
	if err != nil || fmt.Sprint(img.Shape) != "[3 112 112]" {
		t.Fatalf("image 0: %v %v", img, err)
	}
	g, err := models.Build("cornet-z", models.Options{InputSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := Score(subject.FromGraph(g), s, Options{Seed: 1, Bootstrap: 40, Layers: []string{"V1", "V4", "IT"}})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	r.WriteTable(&tab)
	t.Logf("%s\n%s", time.Since(start), tab.String())
	if len(r.Neuroids) != 67 || r.Ceiling.Method != "none" || r.HeldOutNormalized != nil {
		t.Fatalf("neuroids %d, ceiling %+v", len(r.Neuroids), r.Ceiling)
	}
	for _, l := range r.Layers {
		if math.IsNaN(l.Score) || l.Score < -0.2 || l.Score > 1 || len(l.FoldScores) != 10 || l.Normalized != nil {
			t.Fatalf("layer %s: %+v", l.Layer, l)
		}
	}
}
