package ceiling

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/metrics/stats"
)

func TestSpearmanBrown(t *testing.T) {
	for _, c := range []struct{ r, want float64 }{{0, 0}, {1, 1}, {0.5, 2.0 / 3}, {0.6, 0.75}, {-0.2, -0.5}} {
		if got := SpearmanBrown(c.r); math.Abs(got-c.want) > 1e-15 {
			t.Fatalf("SpearmanBrown(%v) = %v, want %v", c.r, got, c.want)
		}
	}
}

func TestSplitHalfFixedByHand(t *testing.T) {
	// 3 stimuli, 1 neuroid, 2 repetitions: halves are the repetitions themselves.
	data := []float64{1, 2, 2, 2, 3, 5}
	x, err := NewResponses(3, 1, 2, data)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := SplitHalfFixed(x, []int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	r := stats.Pearson([]float64{1, 2, 3}, []float64{2, 2, 5})
	if math.Abs(rel.HalfR[0]-r) > 1e-15 || math.Abs(rel.PerNeuroid[0]-2*r/(1+r)) > 1e-15 || rel.Median != rel.PerNeuroid[0] {
		t.Fatalf("%+v, want r %v", rel, r)
	}
}

func synth(seed uint64, stimuli, neuroids, reps int, noise []float64) *Responses {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float64, stimuli*neuroids*reps)
	for s := 0; s < stimuli; s++ {
		for n := 0; n < neuroids; n++ {
			sig := rng.NormFloat64()
			for r := 0; r < reps; r++ {
				data[(s*neuroids+n)*reps+r] = sig + noise[n]*rng.NormFloat64()
			}
		}
	}
	x, _ := NewResponses(stimuli, neuroids, reps, data)
	return x
}

func TestSplitHalfRecoversReliability(t *testing.T) {
	// signal variance 1, noise variance s² per repetition: the mean of R repetitions has
	// reliability 1/(1 + s²/R).
	noise := []float64{0.5, 1, 2, 4}
	x := synth(2, 400, len(noise), 10, noise)
	rel, err := SplitHalf(x, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	for n, s := range noise {
		want := 1 / (1 + s*s/10)
		if math.Abs(rel.PerNeuroid[n]-want) > 0.06 {
			t.Fatalf("neuroid %d: reliability %v, want about %v", n, rel.PerNeuroid[n], want)
		}
	}
	again, _ := SplitHalf(x, 50, 3)
	if again.Median != rel.Median {
		t.Fatal("same seed, different result")
	}
	// odd repetition count works (one sits out)
	if _, err := SplitHalf(synth(3, 50, 2, 5, []float64{1, 1}), 10, 1); err != nil {
		t.Fatal(err)
	}
}

func TestConstantNeuroidExcluded(t *testing.T) {
	x := synth(4, 30, 3, 4, []float64{1, 1, 1})
	for s := 0; s < 30; s++ {
		for r := 0; r < 4; r++ {
			x.Data[(s*3+1)*4+r] = 7
		}
	}
	rel, _ := SplitHalf(x, 5, 1)
	if len(rel.Excluded) != 1 || rel.Excluded[0] != 1 || len(rel.Warnings) != 1 || math.IsNaN(rel.Median) {
		t.Fatalf("%+v", rel)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewResponses(3, 1, 2, make([]float64, 5)); err == nil {
		t.Fatal("wrong length accepted")
	}
	if _, err := NewResponses(3, 1, 1, make([]float64, 3)); err == nil {
		t.Fatal("one repetition accepted")
	}
	d := make([]float64, 12)
	d[7] = math.NaN()
	if _, err := NewResponses(3, 2, 2, d); err == nil || !strings.Contains(err.Error(), "stimulus 1, neuroid 1, repetition 1") {
		t.Fatalf("NaN: %v", err)
	}
	x := synth(5, 10, 1, 4, []float64{1})
	if _, err := SplitHalfFixed(x, []int{0, 1}, []int{1, 2}); err == nil {
		t.Fatal("overlapping halves accepted")
	}
	if _, err := SplitHalfFixed(x, []int{0}, []int{4}); err == nil {
		t.Fatal("out-of-range repetition accepted")
	}
}

func TestNormalize(t *testing.T) {
	if v, err := Normalize(0.4, 0.8, RatioR); err != nil || v != 0.5 {
		t.Fatalf("%v %v", v, err)
	}
	if v, err := Normalize(0.4, 0.8, RatioR2); err != nil || math.Abs(v-0.2) > 1e-15 {
		t.Fatalf("%v %v", v, err)
	}
	for _, c := range []float64{0, -0.1, math.NaN()} {
		if _, err := Normalize(0.4, c, RatioR); err == nil {
			t.Fatalf("ceiling %v accepted", c)
		}
	}
	if _, err := Normalize(0.4, 0.8, "r/sqrt(ceiling)"); err == nil {
		t.Fatal("unknown formula accepted")
	}
	if string(RatioR2) != "r^2/ceiling" {
		t.Fatal("formula name changed")
	}
}
