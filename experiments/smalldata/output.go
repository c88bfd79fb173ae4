package smalldata

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/report"
)

// Labels name the conditions in tables and the figure.
var Labels = map[string]string{
	Scratch:      "from scratch",
	Autoencoder:  "autoencoder-pretrained",
	ImageNetHead: "ImageNet, new head only",
	ImageNetFull: "ImageNet, fully fine-tuned",
}

// WriteTable writes a Markdown table: one row per size, one column per condition, mean ± SD
// of the test accuracy over seeds.
func WriteTable(w io.Writer, sum []Summary) error {
	var conds []string
	var sizes []int
	cell := map[string]map[int]Summary{}
	for _, s := range sum {
		if cell[s.Condition] == nil {
			cell[s.Condition] = map[int]Summary{}
			conds = append(conds, s.Condition)
		}
		cell[s.Condition][s.Size] = s
		if !slices.Contains(sizes, s.Size) {
			sizes = append(sizes, s.Size)
		}
	}
	sort.Ints(sizes)
	var b strings.Builder
	b.WriteString("| labelled images |")
	for _, c := range conds {
		b.WriteString(" " + Labels[c] + " |")
	}
	b.WriteString("\n|---|")
	for range conds {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, n := range sizes {
		fmt.Fprintf(&b, "| %d |", n)
		for _, c := range conds {
			s, ok := cell[c][n]
			switch {
			case !ok:
				b.WriteString(" |")
			case math.IsNaN(s.SD):
				fmt.Fprintf(&b, " %.3f |", s.Mean)
			default:
				fmt.Fprintf(&b, " %.3f ± %.3f |", s.Mean, s.SD)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Answer is a sentence answering "how does ImageNet or unsupervised pretraining help a small
// data set" from the summaries: each pretrained condition against scratch at the smallest and
// the largest size.
func Answer(sum []Summary) string {
	get := func(c string, n int) (Summary, bool) {
		for _, s := range sum {
			if s.Condition == c && s.Size == n {
				return s, true
			}
		}
		return Summary{}, false
	}
	var sizes []int
	for _, s := range sum {
		if s.Condition == Scratch && !slices.Contains(sizes, s.Size) {
			sizes = append(sizes, s.Size)
		}
	}
	if len(sizes) == 0 {
		return "No scratch runs to compare with."
	}
	sort.Ints(sizes)
	lo, hi := sizes[0], sizes[len(sizes)-1]
	var parts []string
	for _, c := range []string{Autoencoder, ImageNetHead, ImageNetFull} {
		var p []string
		for _, n := range []int{lo, hi} {
			s, ok := get(c, n)
			r, _ := get(Scratch, n)
			if !ok {
				continue
			}
			p = append(p, fmt.Sprintf("%+.1f points at %d images (%.1f%% vs %.1f%%)", 100*(s.Mean-r.Mean), n, 100*s.Mean, 100*r.Mean))
			if lo == hi {
				break
			}
		}
		if len(p) > 0 {
			parts = append(parts, Labels[c]+": "+strings.Join(p, ", "))
		}
	}
	return "Test accuracy against training from scratch (mean over seeds): " + strings.Join(parts, "; ") + "."
}

// colours of the conditions in the figure.
var colours = map[string]color.RGBA{
	Scratch:      {0x44, 0x44, 0x44, 0xff},
	Autoencoder:  {0x1f, 0x77, 0xb4, 0xff},
	ImageNetHead: {0xff, 0x7f, 0x0e, 0xff},
	ImageNetFull: {0x2c, 0xa0, 0x2c, 0xff},
}

// WriteFigure plots test accuracy against labelled images (log x), one line per condition
// with ± 1 SD over seeds shaded, as a PNG.
func WriteFigure(path string, sum []Summary) error {
	p := plot.New()
	p.Title.Text = "CIFAR-10: test accuracy vs labelled training images"
	p.X.Label.Text = "labelled training images"
	p.Y.Label.Text = "test accuracy"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Min = 0
	var lines []plot.Plotter
	for _, c := range Conditions {
		var pts, lo, hi plotter.XYs
		for _, s := range sum {
			if s.Condition != c {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(s.Size), Y: s.Mean})
			sd := s.SD
			if math.IsNaN(sd) {
				sd = 0
			}
			lo = append(lo, plotter.XY{X: float64(s.Size), Y: s.Mean - sd})
			hi = append(hi, plotter.XY{X: float64(s.Size), Y: s.Mean + sd})
		}
		if len(pts) == 0 {
			continue
		}
		col := colours[c]
		if len(pts) > 1 {
			poly, err := report.Band(lo, hi, col, 0x38)
			if err != nil {
				return err
			}
			p.Add(poly)
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color, points.Color = col, col
		line.Width = vg.Points(1.5)
		// Lines over every band, so that no band hides another condition's line.
		lines = append(lines, line, points)
		p.Legend.Add(Labels[c], line)
	}
	p.Add(lines...)
	w, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	return atomicfile.WriteFunc(path, func(f io.Writer) error {
		_, err := w.WriteTo(f)
		return err
	})
}

// Report writes the figure and summary.txt (table, answer, and the wall and CPU seconds of the
// invocation) into cfg.Out and returns the summary's text.
func Report(cfg Config, rows []Row, wall, cpu float64) (string, error) {
	sum := Summarise(rows)
	if err := WriteFigure(filepath.Join(cfg.Out, FigureFile), sum); err != nil {
		return "", err
	}
	var b bytes.Buffer
	test := "all"
	if cfg.TestSize > 0 {
		test = fmt.Sprint(cfg.TestSize)
	}
	fmt.Fprintf(&b, "CIFAR-10 test accuracy (%s test images), mean ± SD over seeds %v\n\n", test, cfg.Seeds)
	if err := WriteTable(&b, sum); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\n%s\n\nthis invocation: %.0f s wall, %.0f s CPU (user+sys)\n", Answer(sum), wall, cpu)
	if err := atomicfile.Write(filepath.Join(cfg.Out, SummaryFile), b.Bytes()); err != nil {
		return "", err
	}
	return b.String(), nil
}
