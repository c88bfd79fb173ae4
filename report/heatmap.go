package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ventral-lab/ventral/nn"
)

// Heat is one panel of a heat-map figure: a Rows x Cols matrix (row-major Data) drawn with row
// 0 at the top, such as an RDM or a confusion matrix.
type Heat struct {
	Title      string
	Rows, Cols int
	Data       []float64
	// Min and Max fix the colour range; when both are 0 the panel's own range is used.
	Min, Max float64
	// XLabel and YLabel name the axes; without them the axes are hidden. XTicks and YTicks
	// (optional, one per column or row) label the columns and rows.
	XLabel, YLabel string
	XTicks, YTicks []string
}

type heatGrid struct{ h *Heat }

func (g heatGrid) Dims() (c, r int)   { return g.h.Cols, g.h.Rows }
func (g heatGrid) Z(c, r int) float64 { return g.h.Data[(g.h.Rows-1-r)*g.h.Cols+c] }
func (g heatGrid) X(c int) float64    { return float64(c) }
func (g heatGrid) Y(r int) float64    { return float64(r) }

// HeatMaps draws the panels as gonum/plot heat maps (Kindlmann palette: dark is low, light is
// high), cols panels per row, each panel side inches wide, and saves the figure to each path
// (the format follows the extension: .png, .svg, .pdf).
func HeatMaps(panels []Heat, cols int, side float64, paths ...string) error {
	if len(panels) == 0 {
		return fmt.Errorf("heat maps: no panels")
	}
	if cols <= 0 || cols > len(panels) {
		cols = len(panels)
	}
	if side <= 0 {
		side = 3
	}
	rows := (len(panels) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for k := range panels {
		h := &panels[k]
		if h.Rows <= 0 || h.Cols <= 0 || len(h.Data) != h.Rows*h.Cols {
			return fmt.Errorf("heat map %q: %d values for %d x %d", h.Title, len(h.Data), h.Rows, h.Cols)
		}
		lo, hi := h.Min, h.Max
		if lo == 0 && hi == 0 {
			lo, hi = math.Inf(1), math.Inf(-1)
			for _, v := range h.Data {
				if !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
			if math.IsInf(lo, 1) {
				lo, hi = 0, 1
			}
		}
		if hi <= lo {
			hi = lo + 1
		}
		cm := moreland.Kindlmann()
		cm.SetMin(lo)
		cm.SetMax(hi)
		hm := plotter.NewHeatMap(heatGrid{h}, cm.Palette(255))
		hm.Min, hm.Max = lo, hi
		// Small matrices are drawn as rectangles (a scaled raster would be blurred); large ones
		// as one image, which keeps SVG files small.
		hm.Rasterized = h.Rows*h.Cols > 1024
		hm.NaN, hm.Underflow, hm.Overflow = color.White, cm.Palette(2).Colors()[0], cm.Palette(2).Colors()[1]
		p := plot.New()
		p.Title.Text = h.Title
		p.Add(hm)
		p.X.Min, p.X.Max = -0.5, float64(h.Cols)-0.5
		p.Y.Min, p.Y.Max = -0.5, float64(h.Rows)-0.5
		if h.XLabel == "" && h.YLabel == "" {
			p.HideAxes()
		} else {
			p.X.Label.Text, p.Y.Label.Text = h.XLabel, h.YLabel
			if len(h.XTicks) == h.Cols {
				p.X.Tick.Marker = ticks(h.XTicks, false)
				p.X.Tick.Label.Rotation = math.Pi / 4
				p.X.Tick.Label.XAlign = draw.XRight
				p.X.Tick.Label.YAlign = draw.YCenter
			}
			if len(h.YTicks) == h.Rows {
				p.Y.Tick.Marker = ticks(h.YTicks, true)
			}
		}
		plots[k/cols][k%cols] = p
	}
	for k := len(panels); k < rows*cols; k++ {
		p := plot.New()
		p.HideAxes()
		plots[k/cols][k%cols] = p
	}
	w, ht := vg.Length(side*float64(cols))*vg.Inch, vg.Length(side*float64(rows))*vg.Inch
	for _, path := range paths {
		format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
		c, err := draw.NewFormattedCanvas(w, ht, format)
		if err != nil {
			return fmt.Errorf("heat maps %s: %w", path, err)
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
			PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
		canvases := plot.Align(plots, tiles, dc)
		for i := range plots {
			for j := range plots[i] {
				plots[i][j].Draw(canvases[i][j])
			}
		}
		if err := writeCanvas(path, c); err != nil {
			return fmt.Errorf("heat maps %s: %w", path, err)
		}
	}
	return nil
}

// ticks labels positions 0..n-1 (reversed: label 0 at the top, position n-1).
func ticks(labels []string, reversed bool) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		v := float64(i)
		if reversed {
			v = float64(len(labels) - 1 - i)
		}
		t[i] = plot.Tick{Value: v, Label: l}
	}
	return t
}

func writeCanvas(path string, c vg.CanvasWriterTo) error {
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, buf.Bytes())
}
