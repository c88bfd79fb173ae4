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
	want := []CategoryAccuracy{{Category: "cat", Images: 2, Model: 0.5, Humans: 2.0 / 3, HumanTrials: 3}, {Category: "dog", Images: 3, Model: 2.0 / 3, Humans: 0.75, HumanTrials: 4}}
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

// Error consistency per category, by hand: on c1..c4 the model is right on c1, c2. Observer
// s1 (right on c1 only): c_obs 3/4, c_exp 0.5*0.25+0.5*0.75 = 0.5, kappa 0.5; s2 (wrong on
// c4 only): c_obs 3/4, c_exp 0.5, kappa 0.5; s3 saw c1 only and was right, as was the model:
// kappa undefined, left out. Observer pair s1-s2: c_obs 2/4, c_exp 0.25*0.75+0.75*0.25 =
// 0.375, kappa 0.125/0.625 = 0.2; the pairs with s3 are undefined. The dog has no trials
// where anyone disagrees with chance: both kappas there are left out (NaN).
func TestCategoryKappas(t *testing.T) {
	bm := &behaviour.Benchmark{
		Stimuli:  []string{"c1", "c2", "c3", "c4", "d1"},
		Category: map[string]string{"c1": "cat", "c2": "cat", "c3": "cat", "c4": "cat", "d1": "dog"},
		Subjects: []behaviour.Subject{
			{Name: "s1", Correct: map[string]bool{"c1": true, "c2": false, "c3": false, "c4": false, "d1": true}},
			{Name: "s2", Correct: map[string]bool{"c1": true, "c2": true, "c3": true, "c4": false, "d1": true}},
			{Name: "s3", Correct: map[string]bool{"c1": true}},
		},
	}
	answers := map[string]string{"c1": "cat", "c2": "cat", "c3": "dog", "c4": "dog", "d1": "dog"}
	per, _ := perCategory(bm, answers)
	if math.Abs(per[0].Kappa-0.5) > 1e-12 || math.Abs(per[0].HumanKappa-0.2) > 1e-12 {
		t.Errorf("cat: kappa %v, human-human %v; want 0.5, 0.2", per[0].Kappa, per[0].HumanKappa)
	}
	if !math.IsNaN(per[1].Kappa) || !math.IsNaN(per[1].HumanKappa) {
		t.Errorf("dog: kappa %v, human-human %v; want NaN (everyone always right)", per[1].Kappa, per[1].HumanKappa)
	}
}
