package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a layer profile: a score per layer with an optional interval.
type Series struct {
	Name   string
	Values []float64
	Low    []float64 // optional lower bounds (same length)
	High   []float64
}

var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{255, 127, 14, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{127, 127, 127, 255},
}

// Ref is a horizontal reference line, such as a noise-ceiling bound.
type Ref struct {
	Name  string
	Value float64
}

// LayerProfile draws scores across layers (x: layer names in order) with error bars, and
// optional horizontal reference lines (e.g. noise-ceiling bounds), saved to each path (the
// format follows the extension: .png, .svg, .pdf).
func LayerProfile(title, ylabel string, layers []string, series []Series, refs []Ref, paths ...string) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.X.Label.Text = "layer"
	names := make([]string, len(layers))
	copy(names, layers)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Legend.Top = true
	for i, s := range series {
		if len(s.Values) != len(layers) {
			return fmt.Errorf("layer profile %q: series %q has %d values for %d layers", title, s.Name, len(s.Values), len(layers))
		}
		pts := make(plotter.XYs, len(s.Values))
		for j, v := range s.Values {
			pts[j].X, pts[j].Y = float64(j), v
		}
		line, dots, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		c := palette[i%len(palette)]
		line.Color, dots.Color = c, c
		p.Add(line, dots)
		p.Legend.Add(s.Name, line, dots)
		if s.Low != nil && s.High != nil {
			errs := make(plotter.YErrors, len(s.Values))
			for j := range s.Values {
				errs[j].Low, errs[j].High = s.Values[j]-s.Low[j], s.High[j]-s.Values[j]
			}
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{pts, errs})
			if err != nil {
				return err
			}
			bars.Color = c
			p.Add(bars)
		}
	}
	for k, r := range refs {
		v := r.Value
		ref := plotter.NewFunction(func(float64) float64 { return v })
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		ref.Color = color.Gray{Y: uint8(min(90+50*k, 200))}
		p.Add(ref)
		p.Legend.Add(r.Name, ref)
	}
	// Functions do not widen the axes; keep the reference lines in view.
	for _, r := range refs {
		p.Y.Max = math.Max(p.Y.Max, r.Value+0.05*math.Abs(r.Value))
		p.Y.Min = math.Min(p.Y.Min, r.Value-0.05*math.Abs(r.Value))
	}
	w := vg.Length(max(6, 0.45*float64(len(layers)))) * vg.Inch
	for _, path := range paths {
		if err := p.Save(w, 4*vg.Inch, path); err != nil {
			return fmt.Errorf("layer profile %s: %w", path, err)
		}
	}
	return nil
}

// Band is the shaded area between lo and hi (the same x values, in order), in c at the given
// opacity with no outline: an interval drawn under its line.
func Band(lo, hi plotter.XYs, c color.Color, alpha uint8) (*plotter.Polygon, error) {
	band := append(plotter.XYs{}, lo...)
	for i := len(hi) - 1; i >= 0; i-- {
		band = append(band, hi[i])
	}
	poly, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, err
	}
	r, g, b, _ := color.NRGBAModel.Convert(c).RGBA()
	poly.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), alpha}
	poly.LineStyle.Width = 0
	return poly, nil
}
