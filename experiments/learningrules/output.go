package learningrules

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ventral-lab/ventral/internal/atomicfile"
)

// File names in the output folder.
const (
	CSVFile     = "learning_rules.csv"
	FigureFile  = "learning_rules.png"
	SummaryFile = "summary.txt"
)

// WriteCSV writes one line per network (and per benchmark score), atomically.
func WriteCSV(path string, cfg Config, rows []Row) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	head := []string{"data", "model", "rule", "seed", "test_acc", "seconds"}
	for _, bench := range cfg.Benchmarks {
		head = append(head, bench+"_layer", bench+"_held_out", bench+"_normalized")
	}
	cw.Write(head)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rows {
		rec := []string{r.Data, r.Model, r.Rule, strconv.FormatUint(r.Seed, 10), f(r.TestAcc), f(r.Seconds)}
		for k := range cfg.Benchmarks {
			if k < len(r.Scores) {
				rec = append(rec, r.Scores[k].Layer, f(r.Scores[k].HeldOut), f(r.Scores[k].Norm))
			} else {
				rec = append(rec, "", "", "")
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(b.String()))
}

func pm(m, sd float64) string {
	if math.IsNaN(sd) {
		return fmt.Sprintf("%.3f", m)
	}
	return fmt.Sprintf("%.3f ± %.3f", m, sd)
}

// WriteSummary prints the accuracy table, the brain-score table and the correlations, and a
// sentence for each question.
func WriteSummary(w io.Writer, cfg Config, s Summary) error {
	fmt.Fprintf(w, "Learning rules: accuracy and brain scores\nsettings: %s\n\n", cfg.Settings())
	fmt.Fprintln(w, "Test accuracy (mean ± sd over seeds; gap: paired difference to bp over the same seeds)")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "data\tmodel\trule\tseeds\ttest acc\tgap to bp\ts/network")
	for _, a := range s.Acc {
		gap := "-"
		if a.Rule != "bp" && !math.IsNaN(a.Gap) {
			gap = pm(a.Gap, a.GapSD)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%.0f\n", a.Data, cfg.model(a.Data), a.Rule, a.N, pm(a.Mean, a.SD), gap, a.SecondsMean)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Brain) > 0 {
		fmt.Fprintf(w, "\nBrain scores of the %s networks (held-out score of the best layer, chosen on the other half; mean ± sd over seeds)\n", cfg.ScoreData)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "rule\t%s\n", strings.Join(cfg.Benchmarks, "\t"))
		for _, b := range s.Brain {
			var cells []string
			for k := range b.Mean {
				cells = append(cells, fmt.Sprintf("%s (%s)", pm(b.Mean[k], b.SD[k]), b.Layers[k]))
			}
			fmt.Fprintf(tw, "%s\t%s\n", b.Rule, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nDo brain scores follow accuracy? Spearman's rho of test accuracy against the held-out score over every network and seed (permutation p)")
		for _, c := range s.Corr {
			verdict := "no evidence that they do"
			if c.P < 0.05 && c.Rho > 0 {
				verdict = "yes: the more accurate networks score higher"
			} else if c.P < 0.05 {
				verdict = "the reverse: the more accurate networks score lower"
			}
			fmt.Fprintf(w, "  %s: rho %.2f, p %.3g, n %d: %s\n", c.Benchmark, c.Rho, c.P, c.N, verdict)
		}
	}
	fmt.Fprintln(w)
	for _, data := range cfg.Datasets {
		var parts []string
		for _, a := range s.Acc {
			if a.Data == data && a.Rule != "bp" && !math.IsNaN(a.Gap) {
				parts = append(parts, fmt.Sprintf("%s %+.1f", a.Rule, 100*a.Gap))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "Accuracy gap to backpropagation on %s (points): %s.\n", data, strings.Join(parts, ", "))
		}
	}
	return nil
}

var colors = []plotColor{{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {148, 103, 189}, {255, 127, 14}}

type plotColor struct{ r, g, b uint8 }

// WriteFigure draws one panel of test accuracy per data set (bars with ±sd) and one panel per
// benchmark of held-out score against accuracy (every network, coloured by rule), as a PNG.
func WriteFigure(path string, cfg Config, rows []Row, s Summary) error {
	var panels []*plot.Plot
	for _, data := range cfg.Datasets {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s (%s)", data, cfg.model(data))
		p.Y.Label.Text = "test accuracy"
		var labels []string
		var vals plotter.Values
		var errs plotter.YErrors
		for _, a := range s.Acc {
			if a.Data != data {
				continue
			}
			labels = append(labels, a.Rule)
			vals = append(vals, a.Mean)
			sd := a.SD
			if math.IsNaN(sd) {
				sd = 0
			}
			errs = append(errs, struct{ Low, High float64 }{sd, sd})
		}
		if len(vals) > 0 {
			bars, err := plotter.NewBarChart(vals, vg.Points(18))
			if err != nil {
				return err
			}
			p.Add(bars)
			xys := make(plotter.XYs, len(vals))
			for i, v := range vals {
				xys[i] = plotter.XY{X: float64(i), Y: v}
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{xys, errs})
			if err != nil {
				return err
			}
			p.Add(eb)
			p.NominalX(labels...)
			p.Y.Min = 0
		}
		panels = append(panels, p)
	}
	for k, bench := range cfg.Benchmarks {
		p := plot.New()
		p.Title.Text = bench
		for _, c := range s.Corr {
			if c.Benchmark == bench && !math.IsNaN(c.Rho) {
				p.Title.Text = fmt.Sprintf("%s\nrho %.2f, p %.2g", bench, c.Rho, c.P)
			}
		}
		p.X.Label.Text = cfg.ScoreData + " test accuracy"
		p.Y.Label.Text = "held-out score"
		for ri, rule := range cfg.Rules {
			var pts plotter.XYs
			for _, r := range rows {
				if r.Data == cfg.ScoreData && r.Rule == rule && k < len(r.Scores) {
					pts = append(pts, plotter.XY{X: r.TestAcc, Y: r.Scores[k].HeldOut})
				}
			}
			if len(pts) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			c := colors[ri%len(colors)]
			sc.Color = rgba(c)
			sc.GlyphStyle.Radius = vg.Points(3)
			p.Add(sc)
			p.Legend.Add(rule, sc)
		}
		p.Legend.Top = true
		panels = append(panels, p)
	}
	cols := min(len(panels), 3)
	nrows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, nrows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range grid[i] {
			if i*cols+j < len(panels) {
				grid[i][j] = panels[i*cols+j]
			}
		}
	}
	img := vgimg.PngCanvas{Canvas: vgimg.New(vg.Length(cols)*4*vg.Inch, vg.Length(nrows)*3.5*vg.Inch)}
	t := draw.Tiles{Rows: nrows, Cols: cols, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, t, draw.New(img))
	for i := range grid {
		for j := range grid[i] {
			if grid[i][j] != nil {
				grid[i][j].Draw(canvases[i][j])
			}
		}
	}
	return atomicfile.WriteFunc(path, func(w io.Writer) error { _, err := img.WriteTo(w); return err })
}

func rgba(c plotColor) color.RGBA { return color.RGBA{c.r, c.g, c.b, 255} }
