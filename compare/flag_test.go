package compare

import (
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
)

// A row whose normalised score is above 1 is marked in the table (with the footnote), in JSON
// and in CSV; a row below 1 is not.
func TestAboveCeilingMarked(t *testing.T) {
	hi, lo := 1.08, 0.6
	r1 := &benchmarks.Result{Benchmark: "b", BestLayer: "fc", HeldOut: 0.54, HeldOutNormalized: &hi, Layers: []benchmarks.LayerScore{{Layer: "fc", Score: 0.5, Normalized: &lo}}}
	r2 := &benchmarks.Result{Benchmark: "b", BestLayer: "conv", HeldOut: 0.3, HeldOutNormalized: &lo, Layers: []benchmarks.LayerScore{{Layer: "conv", Score: 0.3, Normalized: &lo}}}
	r1.HeldOutAboveCeiling = true // as benchmarks.Score sets it
	var tb Table
	for i, r := range []*benchmarks.Result{r1, r2} {
		row := Row{Model: []string{"over", "under"}[i]}
		fillRow(&row, r)
		tb.Rows = append(tb.Rows, row)
	}
	var out strings.Builder
	tb.WriteTable(&out)
	s := out.String()
	if !strings.Contains(s, "1.080"+benchmarks.AboveCeilingMark) || strings.Contains(s, "0.600"+benchmarks.AboveCeilingMark) || !strings.Contains(s, benchmarks.AboveCeilingNote) {
		t.Fatalf("table:\n%s", s)
	}
	js, _ := tb.JSON()
	if strings.Count(string(js), `"above_ceiling": true`) != 1 {
		t.Fatalf("JSON:\n%s", js)
	}
	var csv strings.Builder
	tb.WriteCSV(&csv)
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if !strings.HasSuffix(lines[0], ",above_ceiling") || !strings.HasSuffix(lines[1], ",true") || !strings.HasSuffix(lines[2], ",false") {
		t.Fatalf("CSV:\n%s", csv.String())
	}
}
