package report

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestHeatMapsAndBars(t *testing.T) {
	dir := t.TempDir()
	small := Heat{Title: "confusion", Rows: 2, Cols: 3, Data: []float64{1, 0, 0.5, 0, 1, 0.25}, Min: 0, Max: 1,
		XLabel: "predicted", YLabel: "true", XTicks: []string{"a", "b", "c"}, YTicks: []string{"a", "b"}}
	big := Heat{Title: "rdm", Rows: 40, Cols: 40, Data: make([]float64, 1600)}
	for i := range big.Data {
		big.Data[i] = float64(i % 41)
	}
	paths := []string{filepath.Join(dir, "h.png"), filepath.Join(dir, "h.svg")}
	if err := HeatMaps([]Heat{small, big, small}, 2, 2, paths...); err != nil {
		t.Fatal(err)
	}
	bars := []string{filepath.Join(dir, "b.png"), filepath.Join(dir, "b.svg")}
	if err := Bars("acc", "accuracy", []string{"x", "y"}, []Series{{Name: "m", Values: []float64{0.5, 0.7}, Low: []float64{0.4, 0.6}, High: []float64{0.6, 0.8}}},
		[]Ref{{Name: "chance", Value: 0.1}}, bars...); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(paths, bars...) {
		st, err := os.Stat(p)
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", p, err)
		}
	}
	for _, p := range []string{paths[0], bars[0]} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	if err := HeatMaps([]Heat{{Rows: 2, Cols: 2, Data: []float64{1}}}, 1, 2, paths[0]); err == nil {
		t.Error("a heat map with too few values was drawn")
	}
	if err := Bars("x", "y", []string{"a"}, []Series{{Values: []float64{1, 2}}}, nil, bars[0]); err == nil {
		t.Error("bars with too many values were drawn")
	}
}
