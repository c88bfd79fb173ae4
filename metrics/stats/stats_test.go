package stats

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestRanksTies(t *testing.T) {
	got := Ranks([]float64{10, 20, 10, 30, 20, 20})
	want := []float64{1.5, 4, 1.5, 6, 4, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ranks %v, want %v", got, want)
		}
	}
}

func TestPearsonSpearmanByHand(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	y := []float64{2, 4, 5, 9}
	// mean x 2.5, mean y 5; dx = -1.5 -0.5 .5 1.5; dy = -3 -1 0 4; sxy = 4.5+.5+0+6 = 11;
	// sxx = 5; syy = 26 -> r = 11/sqrt(130)
	if r := Pearson(x, y); math.Abs(r-11/math.Sqrt(130)) > 1e-12 {
		t.Fatalf("pearson %v", r)
	}
	if r := Spearman(x, y); math.Abs(r-1) > 1e-12 {
		t.Fatalf("spearman %v", r)
	}
	if r := Pearson([]float64{1, 1, 1}, []float64{1, 2, 3}); !math.IsNaN(r) {
		t.Fatalf("constant vector gave %v, want NaN", r)
	}
}

func TestPercentileMeanSE(t *testing.T) {
	x := []float64{4, 1, 3, 2}
	if p := Percentile(x, 50); p != 2.5 {
		t.Fatalf("median %v", p)
	}
	if p := Percentile(x, 25); math.Abs(p-1.75) > 1e-12 {
		t.Fatalf("p25 %v", p)
	}
	m, se := MeanSE(x)
	if m != 2.5 || math.Abs(se-math.Sqrt(5.0/3)/2) > 1e-12 {
		t.Fatalf("mean %v se %v", m, se)
	}
}

func TestColumnPearson(t *testing.T) {
	a := mat.NewDense(3, 2, []float64{1, 1, 2, 1, 3, 1})
	b := mat.NewDense(3, 2, []float64{2, 5, 4, 6, 6, 7})
	r, err := ColumnPearson(a, b)
	if err != nil || math.Abs(r[0]-1) > 1e-12 || !math.IsNaN(r[1]) {
		t.Fatalf("%v %v", r, err)
	}
	if _, err := ColumnPearson(a, mat.NewDense(2, 2, nil)); err == nil {
		t.Fatal("shape mismatch accepted")
	}
}
