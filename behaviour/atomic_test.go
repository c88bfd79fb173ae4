package behaviour

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/internal/diskfull"
)

// TestWritersAreAtomic: a CSV or plot write that fails part-way (a full disk, simulated by a
// file size limit) leaves the previous file whole.
func TestWritersAreAtomic(t *testing.T) {
	dir := t.TempDir()
	c := &Curve{Distortion: "contrast", Model: "m", Chance: 0.1}
	for i := 0; i < 200; i++ {
		c.Points = append(c.Points, LevelAccuracy{Level: float64(i) / 200, Correct: i, N: 200, Accuracy: float64(i) / 200})
	}
	csvPath := filepath.Join(dir, "curves.csv")
	diskfull.Check(t, csvPath, 1024, func() error { return WriteCurvesCSV(csvPath, []*Curve{c}, nil) })
	m := make([][]int, 30)
	var classes []string
	for i := range m {
		m[i] = make([]int, 30)
		m[i][i] = 1000 + i
		classes = append(classes, fmt.Sprintf("class%02d", i))
	}
	conf := filepath.Join(dir, "confusion.csv")
	diskfull.Check(t, conf, 1024, func() error { return WriteConfusionCSV(conf, m, classes) })
	base := filepath.Join(dir, "curve")
	diskfull.Check(t, base+".png", 4096, func() error { return PlotCurve(base, c, nil) })
}
