package hierarchy

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ventral-lab/ventral/compare"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/report"
)

func f6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func writeCSV(path string, header []string, rows [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes())
}

// WriteAll writes the tables (CSV), figures (PNG), summary (summary.txt) and the HTML report
// of them all (ReportFile) into dir and returns the paths written.
func (o *Outcome) WriteAll(dir string) ([]string, error) {
	var paths []string
	add := func(name string, err error) error {
		if err == nil {
			paths = append(paths, filepath.Join(dir, name))
		}
		return err
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	var rows [][]string
	for _, m := range o.Models {
		perf, src := "", ""
		if m.Perf != nil {
			perf, src = f6(m.Perf.Top1), m.Perf.Source
		}
		rows = append(rows, []string{m.Name, m.Network, m.Kind, m.Control, perf, src, strconv.Itoa(m.Layers), f6(m.Seconds), f6(m.CPUSeconds)})
	}
	if err := add("models.csv", writeCSV(p("models.csv"), []string{"model", "network", "kind", "control", "task_performance", "performance_source", "layers", "seconds", "cpu_seconds"}, rows)); err != nil {
		return nil, err
	}
	rows = nil
	for _, r := range o.Profiles {
		rows = append(rows, []string{r.Model, r.Benchmark, r.Region, r.Layer, f6(r.Depth), f6(r.Score), f6(r.CILow), f6(r.CIHigh), f6(r.Selection)})
	}
	if err := add("profiles.csv", writeCSV(p("profiles.csv"), []string{"model", "benchmark", "region", "layer", "relative_depth", "score", "ci_low", "ci_high", "selection_score"}, rows)); err != nil {
		return nil, err
	}
	rows = nil
	for _, r := range o.Bests {
		rows = append(rows, []string{r.Model, r.Benchmark, r.Region, r.Layer, f6(r.Depth), f6(r.DepthLow), f6(r.DepthHigh), f6(r.HeldOut), f6(r.HeldOutNorm), f6(r.Score), f6(r.CILow), f6(r.CIHigh)})
	}
	if err := add("best_layers.csv", writeCSV(p("best_layers.csv"), []string{"model", "benchmark", "region", "best_layer", "relative_depth", "depth_ci_low", "depth_ci_high",
		"held_out_score", "held_out_normalized", "score_all", "score_ci_low", "score_ci_high"}, rows)); err != nil {
		return nil, err
	}
	testRows := func(ts []compare.Test) [][]string {
		var rows [][]string
		for _, t := range ts {
			rows = append(rows, []string{t.Model, t.Reference, t.Benchmark, f6(t.Diff), f6(t.DiffLow), f6(t.DiffHigh), f6(t.P), f6(t.PHolm), strconv.Itoa(t.Family), t.Note})
		}
		return rows
	}
	th := []string{"model", "reference", "benchmark", "diff", "diff_ci_low", "diff_ci_high", "p", "p_holm", "family", "note"}
	if err := add("trained_vs_random.csv", writeCSV(p("trained_vs_random.csv"), th, testRows(o.Controls))); err != nil {
		return nil, err
	}
	if len(o.VsHMAX) > 0 {
		if err := add("best_vs_hmax.csv", writeCSV(p("best_vs_hmax.csv"), th, testRows(o.VsHMAX))); err != nil {
			return nil, err
		}
	}
	rows = nil
	for _, d := range o.Orders {
		rows = append(rows, []string{d.Model, f6(d.Depth["V1"]), f6(d.Depth["V4"]), f6(d.Depth["IT"]), f6(d.Prob), f6(d.P12), f6(d.P23), f6(d.P), f6(d.PHolm), strconv.Itoa(d.Samples)})
	}
	if err := add("depth_order.csv", writeCSV(p("depth_order.csv"), []string{"model", "depth_v1", "depth_v4", "depth_it", "prob_v1_lt_v4_lt_it", "p_v1_lt_v4", "p_v4_lt_it", "p", "p_holm", "samples"}, rows)); err != nil {
		return nil, err
	}
	rows = nil
	for _, c := range o.Correlations {
		rows = append(rows, []string{c.Scope, c.Set, strconv.Itoa(len(c.Models)), f6(c.Rho), f6(c.P), strconv.FormatBool(c.Exact), strings.Join(c.Models, " ")})
	}
	if err := add("performance_correlation.csv", writeCSV(p("performance_correlation.csv"), []string{"scope", "models_set", "n", "spearman_rho", "p_permutation", "exact", "models"}, rows)); err != nil {
		return nil, err
	}
	for _, region := range o.regions() {
		name := ProfileFigure(region)
		if err := add(name, o.profileFigure(region, p(name))); err != nil {
			return nil, err
		}
	}
	if err := add("performance_vs_score.png", o.scatter(p("performance_vs_score.png"))); err != nil {
		return nil, err
	}
	if err := o.behaviourCSVs(p, add); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := o.WriteSummary(&b); err != nil {
		return nil, err
	}
	if err := add("summary.txt", atomicfile.Write(p("summary.txt"), b.Bytes())); err != nil {
		return nil, err
	}
	// The HTML report last: it is built from the files above.
	page, err := WriteReport(dir, "")
	if err != nil {
		return nil, err
	}
	return append(paths, page), nil
}

// palette: matplotlib's tab10 then four darker tones, so that the default run's distinct
// networks (six imported, CIFAR, AlexNet, CORnet-Z, HMAX, Gabor) never share a colour.
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{255, 127, 14, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{0, 80, 60, 255},
	color.RGBA{120, 0, 60, 255}, color.RGBA{90, 90, 0, 255},
}

// ProfileFigure is the name of a region's profile figure.
func ProfileFigure(region string) string { return "profile-" + region + ".png" }

// regions lists the benchmarks' regions, V1, V4 and IT first, then others as configured.
func (o *Outcome) regions() []string {
	var out []string
	for _, r := range Regions {
		if len(o.regionBenchmarks(r)) > 0 {
			out = append(out, r)
		}
	}
	for _, s := range o.Benchmarks {
		if !slices.Contains(out, s.Region) {
			out = append(out, s.Region)
		}
	}
	return out
}

// colours gives each model a colour: a random control takes its trained network's, dashed,
// so that pairs read together and the palette is spent on distinct networks only.
func (o *Outcome) colours() map[string]color.Color {
	out := map[string]color.Color{}
	k := 0
	for _, name := range o.sortedModels() {
		if base, ok := strings.CutPrefix(name, "random:"); ok && o.model(base) != nil && o.model(base).Control == name {
			continue
		}
		out[name] = palette[k%len(palette)]
		k++
	}
	for _, m := range o.Models {
		if m.Control != "" {
			out[m.Control] = out[m.Name]
		}
	}
	return out
}

// profileFigure draws one panel per benchmark of the region: every model's layer profile
// against relative depth, its 95% bootstrap interval shaded, random controls and untrained
// models dashed; the legend sits in the first panel. One panel per benchmark rather than the
// mean over the region's benchmarks, because the benchmarks score on different scales (ridge
// and PLS r, RSA Spearman) and with different stimuli, so a mean curve would hide which data
// place a network's peak.
func (o *Outcome) profileFigure(region, path string) error {
	benches := o.regionBenchmarks(region)
	if len(benches) == 0 {
		return fmt.Errorf("hierarchy: no benchmark of region %s", region)
	}
	colour := o.colours()
	plots := [][]*plot.Plot{make([]*plot.Plot, len(benches))}
	for j, bench := range benches {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s", region, bench)
		p.X.Label.Text = "relative depth (0 input, 1 last layer)"
		p.Y.Label.Text = "score"
		p.X.Min, p.X.Max = 0, 1
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		for _, name := range o.sortedModels() {
			var pts, lo, hi plotter.XYs
			for _, r := range o.Profiles {
				if r.Model == name && r.Benchmark == bench && !math.IsNaN(r.Score) {
					pts = append(pts, plotter.XY{X: r.Depth, Y: r.Score})
					lo = append(lo, plotter.XY{X: r.Depth, Y: r.CILow})
					hi = append(hi, plotter.XY{X: r.Depth, Y: r.CIHigh})
				}
			}
			if len(pts) == 0 {
				continue
			}
			c := colour[name]
			if len(pts) > 1 {
				poly, err := report.Band(lo, hi, c, 40)
				if err != nil {
					return err
				}
				p.Add(poly)
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			line.Color = c
			if o.model(name).Kind != "trained" {
				line.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			}
			p.Add(line)
			if j == 0 {
				p.Legend.Add(name, line)
			}
		}
		plots[0][j] = p
	}
	w, h := vg.Length(len(benches))*7*vg.Inch, 5*vg.Inch
	img := vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	t := draw.Tiles{Rows: 1, Cols: len(benches), PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, t, draw.New(img))
	for j := range plots[0] {
		plots[0][j].Draw(canvases[0][j])
	}
	return atomicfile.WriteFunc(path, func(w io.Writer) error { _, err := img.WriteTo(w); return err })
}

// scatter draws task performance against region score (one panel per region) for the models
// with an ImageNet performance.
func (o *Outcome) scatter(path string) error {
	rows, cols := 1, len(Regions)
	plots := make([][]*plot.Plot, rows)
	plots[0] = make([]*plot.Plot, cols)
	for j, region := range Regions {
		p := plot.New()
		p.Title.Text = region
		p.X.Label.Text = "ImageNet top-1 (published; controls: chance)"
		p.Y.Label.Text = "mean held-out score"
		var pts plotter.XYs
		var labels []string
		for _, m := range o.Models {
			if m.Perf == nil || m.Perf.Task != "imagenet" {
				continue
			}
			v := o.RegionScore(m.Name, region)
			if math.IsNaN(v) {
				continue
			}
			pts = append(pts, plotter.XY{X: m.Perf.Top1, Y: v})
			labels = append(labels, strings.NewReplacer("mobilenet", "", "-imagenet", "", "random:", "rand ").Replace(m.Name))
		}
		if len(pts) > 0 {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			s.Color = palette[0]
			p.Add(s)
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				return err
			}
			for i := range l.TextStyle {
				l.TextStyle[i].Font.Size = vg.Points(5)
			}
			p.Add(l)
		}
		for _, c := range o.Correlations {
			if c.Scope == region && c.Set == "trained and random controls" {
				p.Title.Text = fmt.Sprintf("%s: rho %.2f, p %.2g (n %d)", region, c.Rho, c.P, len(c.Models))
			}
		}
		plots[0][j] = p
	}
	w, h := 12*vg.Inch, 4*vg.Inch
	img := vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, draw.New(img))
	for j := range plots[0] {
		plots[0][j].Draw(canvases[0][j])
	}
	return atomicfile.WriteFunc(path, func(w io.Writer) error { _, err := img.WriteTo(w); return err })
}

// fmtTest formats a paired test: difference [interval], p and Holm p.
func fmtTest(t compare.Test) string {
	if t.Note != "" || math.IsNaN(t.P) {
		return "- (" + t.Note + ")"
	}
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f] p=%.3g Holm p=%.3g", t.Diff, t.DiffLow, t.DiffHigh, t.P, t.PHolm)
}

// WriteTables prints the best-layer table, the tests and the correlations.
func (o *Outcome) WriteTables(w io.Writer) error {
	c := o.Config
	fmt.Fprintf(w, "Hierarchy: %d models on %d benchmarks; seed %d, bootstrap %d, at most %d layers per model; %.0f s wall, %.0f CPU s, peak RSS %.0f MiB\n",
		len(o.Models), len(o.Benchmarks), c.Seed, c.Bootstrap, c.MaxLayers, o.Seconds, o.CPUSeconds, o.PeakRSSMiB)
	if o.Prototypes != "" {
		fmt.Fprintf(w, "HMAX S2 prototypes: %s\n", o.Prototypes)
	}
	fmt.Fprintln(w, "\nModels and their task performance (ImageNet top-1 published; CIFAR-10 accuracy measured here, a different task)")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tkind\tlayers\ttask performance\tsource")
	for _, m := range o.Models {
		perf, src := "-", "-"
		if m.Perf != nil {
			perf, src = fmt.Sprintf("%.3f", m.Perf.Top1), m.Perf.Source
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", m.Name, m.Kind, m.Layers, perf, src)
	}
	tw.Flush()
	if len(o.CIFARRuns) > 0 {
		fmt.Fprintf(w, "CIFAR-trained network: %s, the most accurate of %d --cifar run(s) on the same CIFAR-10 test images:\n", o.Config.CIFAR, len(o.CIFARRuns))
		for _, r := range o.CIFARRuns {
			if r.Err != nil {
				fmt.Fprintf(w, "  %s: not measured (%v)\n", r.Dir, r.Err)
			} else {
				fmt.Fprintf(w, "  %s: %.3f\n", r.Dir, r.Accuracy)
			}
		}
	}
	fmt.Fprintln(w, "\nBest layer per model and benchmark (chosen on the selection data, held-out score; score on all data with 95% bootstrap interval; depth interval: best layer re-selected per bootstrap resample)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tbenchmark\tregion\tbest layer\tdepth [95%]\theld-out\tscore [95%]")
	for _, b := range o.Bests {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f [%.2f, %.2f]\t%.3f\t%.3f [%.3f, %.3f]\n", b.Model, b.Benchmark, b.Region, short(b.Layer), b.Depth, b.DepthLow, b.DepthHigh, b.HeldOut, b.Score, b.CILow, b.CIHigh)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nTrained vs its random control (paired bootstrap of the held-out scores, Holm over the table)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "trained\tbenchmark\tdiff [95%], p")
	for _, t := range o.Controls {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Model, t.Benchmark, fmtTest(t))
	}
	tw.Flush()
	if len(o.VsHMAX) > 0 {
		fmt.Fprintln(w, "\nBest trained network vs HMAX (paired bootstrap, Holm over the table)")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, t := range o.VsHMAX {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Model, t.Benchmark, fmtTest(t))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nBest depth V1 < V4 < IT within each trained network (region depth: mean over its benchmarks; bootstrap: prob of the strict order, one-sided p per step, p = max, Holm over networks)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tV1\tV4\tIT\tP(order)\tp V1<V4\tp V4<IT\tp\tHolm p")
	for _, d := range o.Orders {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.3f\t%.3g\t%.3g\t%.3g\t%.3g\n", d.Model, d.Depth["V1"], d.Depth["V4"], d.Depth["IT"], d.Prob, d.P12, d.P23, d.P, d.PHolm)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nImageNet top-1 (published; random controls at chance 0.1%) vs held-out brain score: Spearman rho, two-sided permutation p")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scope\tmodels\tn\trho\tp")
	for _, c := range o.Correlations {
		ex := ""
		if c.Exact {
			ex = " (exact)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3g%s\n", c.Scope, c.Set, len(c.Models), c.Rho, c.P, ex)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return o.writeBehaviour(w)
}
