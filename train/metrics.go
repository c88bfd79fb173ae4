package train

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"os"
	"strconv"
	"strings"
	"syscall"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ventral-lab/ventral/nn"
)

// Row is one line of metrics.csv, written after each epoch.
type Row struct {
	Epoch      int     // 1-based
	Step       int     // optimizer steps completed
	LR         float64 // learning rate of the epoch's last step
	TrainLoss  float64 // mean over the epoch's batches (weighted by batch size)
	TrainAcc   float64
	TestLoss   float64 // NaN when there is no test set
	TestAcc    float64
	Seconds    float64 // wall time of the epoch's training steps
	ImagesPerS float64
	PeakRSSMB  float64
}

// MetricsHeader is the column order of metrics.csv.
var MetricsHeader = []string{"epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s", "peak_rss_mb"}

func (r Row) record() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	return []string{strconv.Itoa(r.Epoch), strconv.Itoa(r.Step), f(r.LR), f(r.TrainLoss), f(r.TrainAcc),
		f(r.TestLoss), f(r.TestAcc), f(r.Seconds), f(r.ImagesPerS), f(r.PeakRSSMB)}
}

func writeMetrics(path string, rows []Row) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(MetricsHeader)
	for _, r := range rows {
		w.Write(r.record())
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, buf.Bytes())
}

// ReadMetrics reads a metrics.csv written by Run.
func ReadMetrics(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(MetricsHeader, ",") {
		return nil, fmt.Errorf("%s: header is not %v", path, MetricsHeader)
	}
	var rows []Row
	for i, rec := range recs[1:] {
		var r Row
		var errs [10]error
		r.Epoch, errs[0] = strconv.Atoi(rec[0])
		r.Step, errs[1] = strconv.Atoi(rec[1])
		fl := []*float64{&r.LR, &r.TrainLoss, &r.TrainAcc, &r.TestLoss, &r.TestAcc, &r.Seconds, &r.ImagesPerS, &r.PeakRSSMB}
		for j, p := range fl {
			*p, errs[2+j] = strconv.ParseFloat(rec[2+j], 64)
		}
		for _, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("%s: line %d: %w", path, i+2, e)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// peakRSSMB is the process's peak resident set size in MiB: VmHWM from /proc/self/status,
// else getrusage's ru_maxrss.
func peakRSSMB() float64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				fs := strings.Fields(rest)
				if len(fs) >= 1 {
					if kb, err := strconv.ParseFloat(fs[0], 64); err == nil {
						return kb / 1024
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return 0
}

// PlotCurves writes a PNG with two panels: loss and accuracy against epoch, train and test.
func PlotCurves(path string, rows []Row, title string) error {
	mk := func(name string, train, test func(Row) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title + " " + name
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = name
		p.Legend.Top = true
		for k, s := range []struct {
			label string
			get   func(Row) float64
			c     color.Color
		}{{"train", train, color.RGBA{R: 31, G: 119, B: 180, A: 255}}, {"test", test, color.RGBA{R: 255, G: 127, B: 14, A: 255}}} {
			var xy plotter.XYs
			for _, r := range rows {
				if v := s.get(r); v == v { // skip NaN
					xy = append(xy, plotter.XY{X: float64(r.Epoch), Y: v})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			l.Color, pts.Color = s.c, s.c
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			}
			p.Add(l, pts)
			p.Legend.Add(s.label, l, pts)
		}
		return p, nil
	}
	lp, err := mk("loss", func(r Row) float64 { return r.TrainLoss }, func(r Row) float64 { return r.TestLoss })
	if err != nil {
		return err
	}
	ap, err := mk("accuracy", func(r Row) float64 { return r.TrainAcc }, func(r Row) float64 { return r.TestAcc })
	if err != nil {
		return err
	}
	img := vgimg.New(10*vg.Inch, 4*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{lp, ap}}
	cs := plot.Align(plots, tiles, dc)
	lp.Draw(cs[0][0])
	ap.Draw(cs[0][1])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, buf.Bytes())
}
