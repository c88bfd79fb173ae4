package hierarchy

import (
	"math"
	"testing"

	"github.com/ventral-lab/ventral/behaviour"
)

// Per-category accuracy of the model and the observers, counted by hand.
func TestPerCategory(t *testing.T) {
	bm := &behaviour.Benchmark{
		Stimuli:  []string{"a1", "a2", "b1", "b2", "b3"},
		Category: map[string]string{"a1": "cat", "a2": "cat", "b1": "dog", "b2": "dog", "b3": "dog"},
		Subjects: []behaviour.Subject{
			{Name: "s1", Correct: map[string]bool{"a1": true, "a2": true, "b1": false, "b2": true}},
			{Name: "s2", Correct: map[string]bool{"a1": false, "b1": true, "b3": true}},
		},
	}
	per, human := perCategory(bm, map[string]string{"a1": "cat", "a2": "dog", "b1": "dog", "b2": "dog", "b3": "cat"})
	if len(per) != 2 || per[0].Category != "cat" || per[1].Category != "dog" {
		t.Fatalf("categories %+v", per)
	}
	// cat: model 1 of 2; humans 2 of 3 trials. dog: model 2 of 3; humans 3 of 4 trials.
	want := []CategoryAccuracy{{"cat", 2, 0.5, 2.0 / 3, 3}, {"dog", 3, 2.0 / 3, 0.75, 4}}
	for i, w := range want {
		g := per[i]
		if g.Images != w.Images || g.HumanTrials != w.HumanTrials || math.Abs(g.Model-w.Model) > 1e-12 || math.Abs(g.Humans-w.Humans) > 1e-12 {
			t.Errorf("%s: %+v, want %+v", w.Category, g, w)
		}
	}
	// Observers' mean accuracy: s1 3/4, s2 2/3.
	if math.Abs(human-(0.75+2.0/3)/2) > 1e-12 {
		t.Errorf("human accuracy %v", human)
	}
}
