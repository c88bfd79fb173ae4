package report

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bars draws a grouped bar chart: one group per label, one bar per series (with a single
// series, its Low/High as error bars), with optional dashed horizontal reference lines, saved to each path
// (the format follows the extension: .png, .svg, .pdf).
func Bars(title, ylabel string, labels []string, series []Series, refs []Ref, paths ...string) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Legend.Top = true
	width := vg.Points(max(4, 28/float64(max(1, len(series)))))
	for i, s := range series {
		if len(s.Values) != len(labels) {
			return fmt.Errorf("bars %q: series %q has %d values for %d labels", title, s.Name, len(s.Values), len(labels))
		}
		vals := make(plotter.Values, len(s.Values))
		for j, v := range s.Values {
			if math.IsNaN(v) {
				v = 0
			}
			vals[j] = v
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		c := palette[i%len(palette)]
		b.Color = c
		b.LineStyle.Width = 0
		b.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(b)
		if len(series) > 1 {
			p.Legend.Add(s.Name, b)
		}
		if s.Low != nil && s.High != nil && len(series) == 1 {
			pts := make(plotter.XYs, len(vals))
			errs := make(plotter.YErrors, len(vals))
			for j := range vals {
				pts[j].X, pts[j].Y = float64(j), vals[j]
				errs[j].Low, errs[j].High = vals[j]-s.Low[j], s.High[j]-vals[j]
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{pts, errs})
			if err != nil {
				return err
			}
			p.Add(eb)
		}
	}
	for k, r := range refs {
		v := r.Value
		ref := plotter.NewFunction(func(float64) float64 { return v })
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		ref.Color = palette[(len(series)+k)%len(palette)]
		p.Add(ref)
		p.Legend.Add(r.Name, ref)
		p.Y.Max = math.Max(p.Y.Max, v+0.05*math.Abs(v))
		p.Y.Min = math.Min(p.Y.Min, v-0.05*math.Abs(v))
	}
	w := vg.Length(max(5, 0.5*float64(len(labels))*math.Max(1, float64(len(series))/2))) * vg.Inch
	for _, path := range paths {
		if err := p.Save(w, 4*vg.Inch, path); err != nil {
			return fmt.Errorf("bars %s: %w", path, err)
		}
	}
	return nil
}
