package behaviour

import (
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/tensor"
)

// CurveConfig configures a psychometric curve.
type CurveConfig struct {
	Distortion string
	Levels     []float64 // nil: the distortion's default levels
	Seed       uint64    // noise of image i at level j depends only on (Seed, distortion, j's value, i)
	// Grey converts images to greyscale before distorting them, as Geirhos et al. 2018 did.
	Grey bool
}

// Curve is a model's accuracy at each level of one distortion.
type Curve struct {
	Distortion string
	Model      string
	Data       string // the image set
	Points     []LevelAccuracy
	// Confusion[j] is the confusion matrix at level j: rows true class, columns predicted.
	Confusion [][][]int
	Classes   []string
	Chance    float64
}

// DistortionCurve measures the classifier's accuracy on ds at each level of a distortion.
// ds's label indices must be the model's output indices (checked by class name when both
// declare names).
func DistortionCurve(c *Classifier, ds *datasets.Dataset, cfg CurveConfig) (*Curve, error) {
	d, err := Lookup(cfg.Distortion)
	if err != nil {
		return nil, err
	}
	levels := cfg.Levels
	if levels == nil {
		levels = d.Levels
	}
	if len(levels) == 0 {
		return nil, fmt.Errorf("distortion %s: no levels", d.Name)
	}
	for _, l := range levels {
		if err := d.Check(l); err != nil {
			return nil, err
		}
	}
	if ds == nil || ds.N == 0 || ds.Labels == nil {
		return nil, fmt.Errorf("distortion curve: need a non-empty labelled image set")
	}
	if c.im16 == nil {
		if err := sameClasses(c.Classes, ds.Classes, c.G.Name, ds.Name); err != nil {
			return nil, err
		}
	}
	k := len(ds.Classes)
	if k == 0 {
		for _, l := range ds.Labels {
			k = max(k, l+1)
		}
	}
	h := fnv.New64a()
	h.Write([]byte(d.Name))
	dseed := h.Sum64()
	cv := &Curve{Distortion: d.Name, Model: c.G.Name, Data: ds.Name, Classes: ds.Classes, Chance: 1 / float64(k)}
	for _, lv := range levels {
		imgs := make([]*tensor.Tensor, ds.N)
		for i := range ds.N {
			img := tensor.FromData(ds.Image(i), ds.C, ds.H, ds.W)
			if cfg.Grey {
				img = Greyscale(img)
			}
			rng := rand.New(rand.NewPCG(mix(cfg.Seed, dseed, math.Float64bits(lv)), uint64(i)))
			if imgs[i], err = d.Apply(img, lv, rng); err != nil {
				return nil, err
			}
		}
		pred, err := c.Predict(imgs)
		if err != nil {
			return nil, err
		}
		conf := Confusion(ds.Labels, pred, k)
		p := LevelAccuracy{Level: lv, N: ds.N}
		for i, y := range ds.Labels {
			if pred[i] == y {
				p.Correct++
			}
		}
		p.Accuracy = float64(p.Correct) / float64(p.N)
		cv.Points = append(cv.Points, p)
		cv.Confusion = append(cv.Confusion, conf)
	}
	return cv, nil
}

func sameClasses(model, data []string, mname, dname string) error {
	if model == nil || data == nil {
		return nil
	}
	if len(model) != len(data) {
		return fmt.Errorf("model %q has %d classes, %s has %d", mname, len(model), dname, len(data))
	}
	for i := range model {
		if model[i] != data[i] {
			return fmt.Errorf("model %q class %d is %q, %s's is %q", mname, i, model[i], dname, data[i])
		}
	}
	return nil
}

// Confusion counts (true, predicted) pairs into a k x k matrix; predictions outside [0,k) are
// dropped.
func Confusion(truth, pred []int, k int) [][]int {
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	for i, t := range truth {
		if t >= 0 && t < k && pred[i] >= 0 && pred[i] < k {
			m[t][pred[i]]++
		}
	}
	return m
}

// WriteConfusionCSV writes a confusion matrix with class names as header and first column.
func WriteConfusionCSV(path string, m [][]int, classes []string) error {
	name := func(i int) string {
		if i < len(classes) {
			return classes[i]
		}
		return strconv.Itoa(i)
	}
	rows := [][]string{{"true\\predicted"}}
	for j := range m {
		rows[0] = append(rows[0], name(j))
	}
	for i, r := range m {
		row := []string{name(i)}
		for _, v := range r {
			row = append(row, strconv.Itoa(v))
		}
		rows = append(rows, row)
	}
	return writeCSV(path, rows)
}

// writeCSV writes rows atomically: a failed write (a full disk) leaves the previous file whole.
func writeCSV(path string, rows [][]string) error {
	return atomicfile.WriteFunc(path, func(f io.Writer) error {
		return csv.NewWriter(f).WriteAll(rows)
	})
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// WriteCurvesCSV writes one row per (source, distortion, level): source is the model's name or
// "human".
func WriteCurvesCSV(path string, curves []*Curve, human map[string][]LevelAccuracy) error {
	rows := [][]string{{"source", "distortion", "level", "correct", "n", "accuracy"}}
	for _, c := range curves {
		for _, p := range c.Points {
			rows = append(rows, []string{c.Model, c.Distortion, ftoa(p.Level), strconv.Itoa(p.Correct), strconv.Itoa(p.N), ftoa(p.Accuracy)})
		}
		for _, p := range human[c.Distortion] {
			rows = append(rows, []string{"human", c.Distortion, ftoa(p.Level), strconv.Itoa(p.Correct), strconv.Itoa(p.N), ftoa(p.Accuracy)})
		}
	}
	return writeCSV(path, rows)
}

// HumanCaveat is printed on every plot that shows human data beside a model's.
const HumanCaveat = "human: model-vs-human (Geirhos et al.), 16-class ImageNet images; the model's images differ"

// PlotCurve draws a model's curve, with the human curve (may be nil) beside it, and saves it
// as base.png and base.svg. +Inf levels are drawn one step beyond the largest finite level.
func PlotCurve(base string, c *Curve, human []LevelAccuracy) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s on %s", c.Distortion, c.Model, c.Data)
	if human != nil {
		p.Title.Text += "\n" + HumanCaveat
	}
	p.Title.TextStyle.Font.Size = vg.Points(9)
	d, _ := Lookup(c.Distortion)
	p.X.Label.Text = "level"
	if d != nil {
		p.X.Label.Text = d.Doc
	}
	p.X.Label.TextStyle.Font.Size = vg.Points(8)
	p.Y.Label.Text = "accuracy"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	finiteMax := math.Inf(-1)
	for _, pts := range [][]LevelAccuracy{c.Points, human} {
		for _, q := range pts {
			if !math.IsInf(q.Level, 0) {
				finiteMax = math.Max(finiteMax, q.Level)
			}
		}
	}
	xy := func(pts []LevelAccuracy) plotter.XYs {
		out := make(plotter.XYs, len(pts))
		for i, q := range pts {
			x := q.Level
			if math.IsInf(x, 1) {
				x = finiteMax * 1.25
			}
			out[i] = plotter.XY{X: x, Y: q.Accuracy}
		}
		// sort by x for drawing
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && out[j].X < out[j-1].X; j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	}
	add := func(pts []LevelAccuracy, name string, col color.Color, shape draw.GlyphDrawer) error {
		l, s, err := plotter.NewLinePoints(xy(pts))
		if err != nil {
			return err
		}
		l.Color, s.Color, s.Shape = col, col, shape
		p.Add(l, s)
		p.Legend.Add(name, l, s)
		return nil
	}
	if err := add(c.Points, c.Model, color.RGBA{R: 200, G: 40, B: 40, A: 255}, draw.CircleGlyph{}); err != nil {
		return err
	}
	if human != nil {
		if err := add(human, "human", color.RGBA{R: 40, G: 80, B: 200, A: 255}, draw.BoxGlyph{}); err != nil {
			return err
		}
	}
	chance := plotter.NewFunction(func(float64) float64 { return c.Chance })
	chance.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	chance.Color = color.Gray{Y: 120}
	p.Add(chance)
	p.Legend.Add(fmt.Sprintf("model chance %.2f", c.Chance), chance)
	p.Legend.Top = true
	for _, ext := range []string{".png", ".svg"} {
		wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, ext[1:])
		if err != nil {
			return fmt.Errorf("saving %s%s: %w", base, ext, err)
		}
		if err := atomicfile.WriteFunc(base+ext, func(f io.Writer) error { _, err := wt.WriteTo(f); return err }); err != nil {
			return fmt.Errorf("saving %s%s: %w", base, ext, err)
		}
	}
	return nil
}

// HumanDataDir is the folder of model-vs-human-raw for a distortion, found with
// datasets.ResolveDir ("" and an error when the distortion has no human data or none is found).
func HumanDataDir(distortion string) (string, error) {
	d, err := Lookup(distortion)
	if err != nil {
		return "", err
	}
	if d.Human == "" {
		return "", fmt.Errorf("distortion %s has no model-vs-human counterpart", distortion)
	}
	return datasets.ResolveDir("model-vs-human-raw", d.Human)
}

// safeName turns a name into a file-name part.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\\' || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// CurvePath is the base path (without extension) of a curve's plot in dir.
func CurvePath(dir string, c *Curve) string {
	return filepath.Join(dir, "curve_"+safeName(c.Distortion))
}
