package analysis

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func ff(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "x")
}

// WriteRFCSV writes the receptive-field table as CSV.
func WriteRFCSV(w io.Writer, rows []RFRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "type", "shape", "theoretical_px", "theoretical_clipped_px", "effective_px", "effective_radius_px", "global", "theoretical_deg", "effective_deg", "deg_per_px"})
	for _, r := range rows {
		cw.Write([]string{r.Layer, r.Type, shapeString(r.Shape), ff(r.Theoretical), ff(r.TheoreticalClipped), ff(r.Effective), ff(r.EffRadius),
			strconv.FormatBool(r.Global), ff(r.Deg(r.Theoretical)), ff(r.Deg(r.Effective)), ff(r.DegPerPixel)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteRFTable writes the receptive-field table as aligned text.
func WriteRFTable(w io.Writer, rows []RFRow) {
	fmt.Fprintf(w, "%-16s %-16s %-14s %10s %10s %10s %10s %9s\n", "layer", "type", "shape", "theo_px", "clip_px", "eff_px", "theo_deg", "eff_deg")
	for _, r := range rows {
		eff, effDeg := "-", "-"
		if r.Effective > 0 {
			eff, effDeg = fmt.Sprintf("%.0f", r.Effective), fmtDeg(r.Deg(r.Effective))
		}
		theo := fmt.Sprintf("%.0f", r.Theoretical)
		if r.Global {
			theo = "global"
		}
		fmt.Fprintf(w, "%-16s %-16s %-14s %10s %10.0f %10s %10s %9s\n", r.Layer, r.Type, shapeString(r.Shape), theo, r.TheoreticalClipped, eff, fmtDeg(r.Deg(r.Theoretical)), effDeg)
	}
}

func fmtDeg(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// PlotRF draws receptive-field size against layer: theoretical (clipped to the image) and,
// when measured, effective, in degrees when the visual angle is known, else pixels. The format
// follows path's extension (.png, .svg, .pdf).
func PlotRF(path, title string, rows []RFRow) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "layer"
	unit, scale := "pixels", 1.0
	if len(rows) > 0 && rows[0].DegPerPixel > 0 {
		unit, scale = "degrees of visual angle", rows[0].DegPerPixel
	}
	p.Y.Label.Text = "receptive field size (" + unit + ")"
	names := make([]string, len(rows))
	theo, eff := make(plotter.XYs, len(rows)), plotter.XYs{}
	for i, r := range rows {
		names[i] = r.Layer
		theo[i] = plotter.XY{X: float64(i), Y: r.TheoreticalClipped * scale}
		if r.Effective > 0 {
			eff = append(eff, plotter.XY{X: float64(i), Y: r.Effective * scale})
		}
	}
	if err := addLine(p, "theoretical", theo, color.RGBA{R: 31, G: 119, B: 180, A: 255}, draw.CircleGlyph{}); err != nil {
		return err
	}
	if len(eff) > 0 {
		if err := addLine(p, "effective (95% of gradient mass)", eff, color.RGBA{R: 214, G: 39, B: 40, A: 255}, draw.SquareGlyph{}); err != nil {
			return err
		}
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Min = 0
	return save(p, path, len(rows))
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, g draw.GlyphDrawer) error {
	l, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color = c
	pts.Color = c
	pts.Shape = g
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

func save(p *plot.Plot, path string, n int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w := vg.Length(max(6, 0.45*float64(n)+2)) * vg.Inch
	return p.Save(w, 4.5*vg.Inch, path)
}

// WriteDecodeCSV writes the decodability curve as CSV.
func WriteDecodeCSV(w io.Writer, rows []DecodeResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "features", "used_features", "accuracy", "sd", "chance", "fold_accuracies"})
	for _, r := range rows {
		folds := make([]string, len(r.FoldAccuracy))
		for i, a := range r.FoldAccuracy {
			folds[i] = ff(a)
		}
		cw.Write([]string{r.Layer, strconv.Itoa(r.Features), strconv.Itoa(r.Used), ff(r.Accuracy), ff(r.SD), ff(r.Chance), strings.Join(folds, ";")})
	}
	cw.Flush()
	return cw.Error()
}

// PlotDecode draws decoding accuracy against layer (mean and ± 1 SD across folds) with the
// chance level as a dashed line.
func PlotDecode(path, title string, rows []DecodeResult) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "layer"
	p.Y.Label.Text = "cross-validated decoding accuracy"
	names := make([]string, len(rows))
	acc, lo, hi := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	for i, r := range rows {
		names[i] = r.Layer
		acc[i] = plotter.XY{X: float64(i), Y: r.Accuracy}
		lo[i] = plotter.XY{X: float64(i), Y: r.Accuracy - r.SD}
		hi[i] = plotter.XY{X: float64(i), Y: r.Accuracy + r.SD}
	}
	blue := color.RGBA{R: 31, G: 119, B: 180, A: 255}
	if err := addLine(p, "accuracy", acc, blue, draw.CircleGlyph{}); err != nil {
		return err
	}
	for _, band := range []plotter.XYs{lo, hi} {
		l, err := plotter.NewLine(band)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 110}
		p.Add(l)
	}
	if len(rows) > 0 {
		ch, err := plotter.NewLine(plotter.XYs{{X: -0.3, Y: rows[0].Chance}, {X: float64(len(rows)) - 0.7, Y: rows[0].Chance}})
		if err != nil {
			return err
		}
		ch.Color = color.Gray{Y: 90}
		ch.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(ch)
		p.Legend.Add(fmt.Sprintf("chance (%.3g)", rows[0].Chance), ch)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	return save(p, path, len(rows))
}

// WriteLesionCSV writes a lesion sweep as CSV.
func WriteLesionCSV(w io.Writer, rows []LesionRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "mode", "fraction", "silenced", "total", "accuracy", "loss", "score", "score_layer"})
	for _, r := range rows {
		mode := "channels"
		if r.Units {
			mode = "units"
		}
		cw.Write([]string{r.Layer, mode, ff(r.Fraction), strconv.Itoa(r.Silenced), strconv.Itoa(r.Total), ff(r.Accuracy), ff(r.Loss), ff(r.Score), r.ScoreLayer})
	}
	cw.Flush()
	return cw.Error()
}
