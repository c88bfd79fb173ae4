package modelreport

import (
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/analysis"
	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/metrics/rsa"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/report"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

func (j *job) model() ([]report.Section, error) {
	g := j.g
	text := []string{fmt.Sprintf("%s: %d parameters, input %s, output %s (node %s).", g.Name, g.NumParams(),
		shapeText(g.InputShape), shapeText(g.Node(g.OutputName()).Shape), g.OutputName())}
	switch {
	case j.src.Untrained:
		text = append(text, fmt.Sprintf("Untrained: %q names no checkpoint, so the weights are random (initialised with seed %d).", j.src.Name, j.o.Seed))
	case j.src.Checkpoint != "":
		t := fmt.Sprintf("Trained weights from %s", j.src.Checkpoint)
		if j.src.Epoch > 0 {
			t += fmt.Sprintf(", after %d epochs", j.src.Epoch)
		}
		if d := j.src.Meta["dataset"]; d != "" {
			t += " on " + d
		}
		if s := j.src.Meta["seed"]; s != "" {
			t += " (seed " + s + ")"
		}
		text = append(text, t+".")
	default:
		text = append(text, "Weights as held in memory.")
	}
	if c := g.Meta["citation"]; c != "" {
		text = append(text, "Reference: "+c+".")
	}
	if c := models.Classes(g); len(c) > 0 {
		text = append(text, "Classes: "+classText(c)+".")
	}
	t := &report.Table{Header: []string{"layer", "type", "inputs", "output shape", "parameters"}}
	for _, n := range g.Nodes {
		params := 0
		for _, p := range n.Op.Params() {
			params += p.Value.Len()
		}
		t.Rows = append(t.Rows, []string{n.Name, n.Op.Type(), strings.Join(n.Inputs, ", "), shapeText(n.Shape), strconv.Itoa(params)})
	}
	return []report.Section{{Heading: headings[Model], Text: text, Table: t}}, nil
}

func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "x")
}

func (j *job) training() ([]report.Section, error) {
	if j.src.Dir == "" {
		return nil, skipf("%s is not a training run folder, so there are no training metrics", j.src.Name)
	}
	path := filepath.Join(j.src.Dir, train.MetricsFile)
	if _, err := os.Stat(path); err != nil {
		return nil, skipf("the run folder %s has no %s", j.src.Dir, train.MetricsFile)
	}
	rows, err := train.ReadMetrics(path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, skipf("%s has no epochs", path)
	}
	fig := report.Figure{File: "training_curves.png", Caption: "Loss and accuracy per epoch on the training and test sets (from " + train.MetricsFile + ")."}
	if err := train.PlotCurves(filepath.Join(j.out, fig.File), rows, j.g.Name); err != nil {
		return nil, err
	}
	t := &report.Table{Header: []string{"epoch", "step", "lr", "train loss", "train acc", "test loss", "test acc", "seconds", "images/s"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{strconv.Itoa(r.Epoch), strconv.Itoa(r.Step), fmt.Sprintf("%.4g", r.LR), f3(r.TrainLoss), f3(r.TrainAcc),
			f3(r.TestLoss), f3(r.TestAcc), fmt.Sprintf("%.1f", r.Seconds), fmt.Sprintf("%.0f", r.ImagesPerS)})
	}
	last := rows[len(rows)-1]
	text := []string{fmt.Sprintf("%d epochs (%d optimizer steps); final training accuracy %s, test accuracy %s.", last.Epoch, last.Step, f3(last.TrainAcc), f3(last.TestAcc))}
	if m := j.src.Meta; m != nil {
		var parts []string
		for _, k := range []string{"dataset", "optimizer", "schedule"} {
			if m[k] != "" {
				parts = append(parts, k+" "+m[k])
			}
		}
		if len(parts) > 0 {
			text = append(text, "Recipe: "+strings.Join(parts, "; ")+".")
		}
	}
	return []report.Section{{Heading: headings[Training], Text: text, Table: t, Figures: []report.Figure{fig}}}, nil
}

func (j *job) accuracy() ([]report.Section, error) {
	ds, err := j.testData(j.o.TestLimit)
	if err != nil {
		return nil, err
	}
	c, err := behaviour.NewClassifier(j.g)
	if err != nil {
		return nil, err
	}
	c.Batch = 128
	k := len(ds.Classes)
	truth, pred := make([]int, ds.N), make([]int, ds.N)
	var loss float64
	const chunk = 512
	for lo := 0; lo < ds.N; lo += chunk {
		hi := min(lo+chunk, ds.N)
		imgs := make([]*tensor.Tensor, 0, hi-lo)
		for i := lo; i < hi; i++ {
			imgs = append(imgs, tensor.FromData(ds.Image(i), ds.C, ds.H, ds.W))
		}
		logits, err := c.Logits(imgs)
		if err != nil {
			return nil, err
		}
		for i, row := range logits {
			y := ds.Labels[lo+i]
			truth[lo+i], pred[lo+i] = y, argmax(row)
			loss += crossEntropy(row, y)
		}
	}
	conf := behaviour.Confusion(truth, pred, k)
	correct := 0
	per := make([]float64, k)
	counts := make([]int, k)
	for t := range k {
		for p := range k {
			counts[t] += conf[t][p]
		}
		correct += conf[t][t]
		per[t] = math.NaN()
		if counts[t] > 0 {
			per[t] = float64(conf[t][t]) / float64(counts[t])
		}
	}
	acc := float64(correct) / float64(ds.N)
	tbl := &report.Table{Header: []string{"class", "test images", "accuracy"}}
	heat := report.Heat{Title: "confusion (fraction of each true class)", Rows: k, Cols: k, Data: make([]float64, k*k), Min: 0, Max: 1,
		XLabel: "predicted class", YLabel: "true class", XTicks: ds.Classes, YTicks: ds.Classes}
	for t := range k {
		tbl.Rows = append(tbl.Rows, []string{ds.Classes[t], strconv.Itoa(counts[t]), f3(per[t])})
		for p := range k {
			if counts[t] > 0 {
				heat.Data[t*k+p] = float64(conf[t][p]) / float64(counts[t])
			}
		}
	}
	tbl.Rows = append(tbl.Rows, []string{"all", strconv.Itoa(ds.N), f3(acc)})
	tbl.Highlight = map[int]bool{k: true}
	bars, err := j.figure("accuracy_per_class", "Top-1 accuracy per class; dashed: overall accuracy and chance.", func(paths ...string) error {
		return report.Bars(j.g.Name+": accuracy per class", "top-1 accuracy", ds.Classes, []report.Series{{Name: "accuracy", Values: per}},
			[]report.Ref{{Name: "overall", Value: acc}, {Name: "chance", Value: 1 / float64(k)}}, paths...)
	})
	if err != nil {
		return nil, err
	}
	cm, err := j.figure("confusion", "Confusion matrix: row = true class, column = predicted class, each row divided by the class's image count (dark: 0, light: 1).",
		func(paths ...string) error { return report.HeatMaps([]report.Heat{heat}, 1, 4.5, paths...) })
	if err != nil {
		return nil, err
	}
	text := []string{fmt.Sprintf("Top-1 accuracy %.3f and mean cross-entropy %.3f on %d %s test images (a class-balanced subset of %d; chance %.3f).",
		acc, loss/float64(ds.N), ds.N, j.dataName, j.full.N, 1/float64(k))}
	return []report.Section{{Heading: headings[Accuracy], Text: text, Table: tbl, Figures: []report.Figure{bars, cm}}}, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func crossEntropy(logits []float32, y int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s) - float64(logits[y])
}

// dataMissing reports whether a benchmark's registered data files cannot be found.
func dataMissing(spec *benchmarks.Spec) error {
	check := func(d *benchmarks.DataSpec) error {
		if d == nil || d.Dataset == "" {
			return nil
		}
		files := []string{d.File}
		if d.Train != nil {
			files = append(files, d.Train.File)
		}
		if d.Test != nil {
			files = append(files, d.Test.File)
		}
		for _, f := range files {
			if f == "" {
				continue
			}
			if _, err := datasets.Resolve(d.Dataset, f); err != nil {
				return fmt.Errorf("%s/%s: %v", d.Dataset, f, err)
			}
		}
		return nil
	}
	if err := check(&spec.Data); err != nil {
		return err
	}
	return check(spec.Ceiling.Data)
}

func (j *job) benchmarks() ([]report.Section, error) {
	var skipped []string
	if len(j.scored) == 0 {
		for _, name := range j.o.Benchmarks {
			spec, err := benchmarks.Load(name)
			if err != nil {
				return nil, err
			}
			if err := dataMissing(spec); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: its neural data were not found (%v)", name, err))
				continue
			}
			fmt.Fprintf(j.o.Log, "report: scoring %s on %s\n", j.g.Name, name)
			res, err := benchmarks.Score(subject.FromGraph(j.g), spec, benchmarks.Options{Seed: j.o.Seed, Bootstrap: j.o.Bootstrap})
			if err != nil {
				return nil, fmt.Errorf("scoring %s: %w", name, err)
			}
			j.scored = append(j.scored, Scored{Result: res})
		}
	}
	if len(j.scored) == 0 {
		return nil, skipf("no benchmark could be scored (%s)", strings.Join(skipped, "; "))
	}
	sum := &report.Table{Header: []string{"benchmark", "region", "metric", "best layer", "held-out score", "normalised", "ceiling", "p (best not above second)"}}
	above := false
	for _, s := range j.scored {
		r := s.Result
		nrm := "-"
		if r.HeldOutNormalized != nil {
			nrm = f3(*r.HeldOutNormalized) + benchmarks.NormMark(r.HeldOutNormalized)
			above = above || r.HeldOutAboveCeiling
		}
		sum.Rows = append(sum.Rows, []string{r.Benchmark, r.Region, r.Metric, r.BestLayer, f3(r.HeldOut), nrm, ceilingShort(r.Ceiling), f3(r.BestVsSecondP)})
	}
	text := []string{fmt.Sprintf("Each layer's representation is compared with the neural data of each benchmark; the best layer (the model's layer for the region) is chosen on data kept apart from the data that score it. %d bootstrap samples per benchmark, seed %d.", j.scored[0].Result.Bootstrap, j.o.Seed)}
	for _, s := range skipped {
		text = append(text, "Not scored: "+s+".")
	}
	if above {
		text = append(text, benchmarks.AboveCeilingNote+".")
	}
	secs := []report.Section{{Heading: headings[Benchmarks], Text: text, Table: sum}}
	for _, s := range j.scored {
		sec, err := j.benchmarkSection(s)
		if err != nil {
			return nil, err
		}
		secs = append(secs, sec)
	}
	return secs, nil
}

func ceilingShort(c benchmarks.Ceiling) string {
	if c.Method == "" || c.Method == "none" {
		return "none"
	}
	if c.Units > 0 {
		return fmt.Sprintf("%s over %d %ss [%.3f, %.3f]", c.Method, c.Units, c.Unit, c.Lower, c.Upper)
	}
	return fmt.Sprintf("%s [%.3f, %.3f]", c.Method, c.Lower, c.Upper)
}

func (j *job) benchmarkSection(s Scored) (report.Section, error) {
	r := s.Result
	results := []*benchmarks.Result{r}
	names := []string{j.g.Name}
	if s.Baseline != nil {
		bn := s.BaselineName
		if bn == "" {
			bn = "baseline"
		}
		if len(s.Baseline.Layers) != len(r.Layers) {
			return report.Section{}, fmt.Errorf("%s: the baseline has %d layers, the model %d", r.Benchmark, len(s.Baseline.Layers), len(r.Layers))
		}
		results, names = append(results, s.Baseline), append(names, bn)
	}
	layers := make([]string, len(r.Layers))
	var series []report.Series
	for k, res := range results {
		sr := report.Series{Name: names[k]}
		for i, l := range res.Layers {
			layers[i] = l.Layer
			sr.Values = append(sr.Values, l.Score)
			sr.Low = append(sr.Low, l.CILow)
			sr.High = append(sr.High, l.CIHigh)
		}
		series = append(series, sr)
	}
	var refs []report.Ref
	if ce := r.Ceiling; ce.Method != "" && ce.Method != "none" {
		refs = []report.Ref{{Name: "noise ceiling, upper", Value: ce.Upper}, {Name: "noise ceiling, lower", Value: ce.Lower}}
	}
	fig, err := j.figure("profile_"+r.Benchmark, "Score per layer with 95% bootstrap intervals over stimuli; dashed: noise-ceiling bounds where the data have them.",
		func(paths ...string) error {
			return report.LayerProfile(r.Benchmark, "raw score ("+r.Metric+")", layers, series, refs, paths...)
		})
	if err != nil {
		return report.Section{}, err
	}
	hdr := []string{"layer", "score", "95% CI", "normalised", "normalised 95% CI", "selection score"}
	if s.Baseline != nil {
		hdr = append(hdr, names[1], names[1]+" 95% CI")
	}
	t := &report.Table{Header: hdr, Highlight: map[int]bool{}}
	for i, l := range r.Layers {
		row := []string{l.Layer, f3(l.Score), ci(l.CILow, l.CIHigh), optF(l.Normalized) + benchmarks.NormMark(l.Normalized), "-", f3(l.Selection)}
		if l.NormCILow != nil && l.NormCIHigh != nil {
			row[4] = ci(*l.NormCILow, *l.NormCIHigh)
		}
		if s.Baseline != nil {
			b := s.Baseline.Layers[i]
			row = append(row, f3(b.Score), ci(b.CILow, b.CIHigh))
		}
		t.Rows = append(t.Rows, row)
		if l.Layer == r.BestLayer {
			t.Highlight[i] = true
		}
	}
	ceil := "none: raw scores"
	if ce := r.Ceiling; ce.Method != "" && ce.Method != "none" {
		ceil = fmt.Sprintf("%s, lower %.3f, upper %.3f; normalised = raw / %.3f", ce.Method, ce.Lower, ce.Upper, ce.Value)
		if ce.Units > 0 {
			ceil = fmt.Sprintf("%s over %d %ss, lower %.3f, upper %.3f; normalised = raw / %.3f", ce.Method, ce.Units, ce.Unit, ce.Lower, ce.Upper, ce.Value)
		}
	}
	text := []string{
		fmt.Sprintf("Region %s. Metric: %s (%s). Ceiling: %s.", r.Region, r.Metric, r.Formula, ceil),
		fmt.Sprintf("Best layer, %s: %s, held-out score %s%s; one-sided bootstrap p that it does not beat %s: %s.",
			r.Selection, r.BestLayer, f3(r.HeldOut), normText(r.HeldOutNormalized), orDash(r.SecondLayer), f3(r.BestVsSecondP)),
	}
	if s.Baseline != nil {
		text = append(text, fmt.Sprintf("%s: best layer %s, held-out score %s.", names[1], s.Baseline.BestLayer, f3(s.Baseline.HeldOut)))
	}
	if n := strings.TrimSpace(r.Ceiling.Note); n != "" {
		text = append(text, n)
	}
	for _, w := range r.Warnings {
		text = append(text, "Warning: "+w)
	}
	return report.Section{Heading: r.Benchmark, Text: text, Table: t, Figures: []report.Figure{fig}}, nil
}

func ci(lo, hi float64) string { return fmt.Sprintf("[%s, %s]", f3(lo), f3(hi)) }

func optF(v *float64) string {
	if v == nil {
		return "-"
	}
	return f3(*v)
}

func normText(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(" (normalised %s%s)", f3(*v), benchmarks.NormMark(v))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// rdmLayers picks the layers whose RDMs are shown: the first spatial layer, each benchmark's
// best layer and the output, in depth order.
func (j *job) rdmLayers() []string {
	want := map[string]bool{}
	for _, n := range j.g.Nodes {
		if len(n.Shape) == 3 && n.Op.Type() != "flatten" {
			want[n.Name] = true
			break
		}
	}
	for _, s := range j.scored {
		if s.Result.BestLayer != "" && j.g.Node(s.Result.BestLayer) != nil {
			want[s.Result.BestLayer] = true
		}
	}
	want[j.g.OutputName()] = true
	var out []string
	for _, n := range j.g.Nodes {
		if want[n.Name] {
			out = append(out, n.Name)
		}
	}
	return out
}

// regionLabel names a benchmark's data for a panel title, e.g. "monkey IT".
func regionLabel(spec *benchmarks.Spec) string {
	l := strings.ToLower(spec.Name + " " + spec.Description)
	species := ""
	for _, s := range []string{"monkey", "human", "mouse"} {
		if strings.Contains(l, s) {
			species = s + " "
			break
		}
	}
	return species + spec.Region
}

func (j *job) rdms() ([]report.Section, error) {
	type dataRDM struct {
		label, bench string
		rdm          []float64
	}
	var (
		set     string
		first   *benchmarks.Spec
		data    []dataRDM
		reasons []string
	)
	for _, name := range j.o.Benchmarks {
		spec, err := benchmarks.Load(name)
		if err != nil {
			return nil, err
		}
		if spec.Data.Kind != "rdm" || spec.Data.Dataset == "" || spec.Data.File == "" {
			reasons = append(reasons, name+" has no data RDM")
			continue
		}
		if set != "" && spec.Stimuli.Set != set {
			continue
		}
		path, err := datasets.Resolve(spec.Data.Dataset, spec.Data.File)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("the RDM of %s was not found (%v)", name, err))
			continue
		}
		rs, err := neural.ReadRDMsMAT(path, spec.Data.Variable, neural.MATRDMOptions{Field: spec.Data.Field})
		if err != nil {
			return nil, err
		}
		set = spec.Stimuli.Set
		if first == nil {
			first = spec
		}
		data = append(data, dataRDM{label: regionLabel(spec), bench: name, rdm: rs.Mean()})
	}
	if len(data) == 0 {
		return nil, skipf("no benchmark's data come as an RDM (%s)", strings.Join(reasons, "; "))
	}
	// The first RDM benchmark's own stimulus declaration (a built-in set or its files).
	stim, err := first.StimulusSet("")
	if err != nil {
		return nil, skipf("the %s stimuli could not be loaded (%v)", set, err)
	}
	defer stim.Close()
	n := stim.Len()
	for _, d := range data {
		if len(d.rdm) != n*n {
			return nil, fmt.Errorf("the RDM of %s is not %d x %d", d.bench, n, n)
		}
	}
	layers := j.rdmLayers()
	acts, err := activations.Extract(j.g, stim, layers, activations.Options{NoCache: true, Quiet: true})
	if err != nil {
		return nil, err
	}
	var panels []report.Heat
	for _, d := range data {
		panels = append(panels, report.Heat{Title: d.label, Rows: n, Cols: n, Data: percentiles(d.rdm, n), Min: 0, Max: 100})
	}
	hdr := []string{"model layer"}
	for _, d := range data {
		hdr = append(hdr, "Spearman with "+d.label)
	}
	tbl := &report.Table{Header: hdr}
	var notes []string
	for _, l := range layers {
		feats := acts.Layer(l).Features
		m, err := rsa.FromPatterns(feats.Dense(), rsa.Correlation, nil)
		if err != nil {
			notes = append(notes, fmt.Sprintf("Layer %s has no correlation-distance RDM (%v).", l, err))
			continue
		}
		full := m.Dense()
		flat := make([]float64, n*n)
		for a := range n {
			for b := range n {
				flat[a*n+b] = full.At(a, b)
			}
		}
		panels = append(panels, report.Heat{Title: j.g.Name + " " + l, Rows: n, Cols: n, Data: percentiles(flat, n), Min: 0, Max: 100})
		row := []string{l}
		for _, d := range data {
			row = append(row, f3(rsa.CompareVectors(m.Vector(), neural.UpperTriangle(d.rdm, n), rsa.Spearman)))
		}
		tbl.Rows = append(tbl.Rows, row)
	}
	fig, err := j.figure("rdms", fmt.Sprintf("RDMs of the %d %s stimuli (rows and columns in the data's order), each shown as percentiles of its dissimilarities (dark: similar, light: dissimilar): the neural data first, then the model's layers (1 - Pearson r between activation patterns).", n, set),
		func(paths ...string) error { return report.HeatMaps(panels, 3, 3, paths...) })
	if err != nil {
		return nil, err
	}
	text := append([]string{fmt.Sprintf("Layers shown: the first spatial layer, the best layer of each benchmark and the output (%s). The table gives the Spearman correlation of each model RDM with each data RDM over all stimulus pairs.", strings.Join(layers, ", "))}, notes...)
	return []report.Section{{Heading: headings[RDMs], Text: text, Table: tbl, Figures: []report.Figure{fig}}}, nil
}

// percentiles maps the off-diagonal entries of an n x n matrix to their percentile rank
// (0-100, ties averaged, symmetric pairs ranked once); the diagonal is 0.
func percentiles(d []float64, n int) []float64 {
	type pair struct {
		v    float64
		a, b int
	}
	var ps []pair
	for a := range n {
		for b := a + 1; b < n; b++ {
			ps = append(ps, pair{d[a*n+b], a, b})
		}
	}
	sort.SliceStable(ps, func(x, y int) bool { return ps[x].v < ps[y].v })
	out := make([]float64, n*n)
	m := len(ps)
	for lo := 0; lo < m; {
		hi := lo + 1
		for hi < m && ps[hi].v == ps[lo].v {
			hi++
		}
		r := 100 * (float64(lo+hi-1) / 2) / math.Max(1, float64(m-1))
		for _, p := range ps[lo:hi] {
			out[p.a*n+p.b], out[p.b*n+p.a] = r, r
		}
		lo = hi
	}
	return out
}

func (j *job) rf() ([]report.Section, error) {
	layers := analysis.MainLayers(j.g)
	rows, err := analysis.ReceptiveFields(j.g, layers, analysis.RFOptions{Effective: true,
		ERF: analysis.ERFOptions{N: j.o.ERFImages, Seed: j.o.Seed}})
	if err != nil {
		return nil, err
	}
	fig, err := j.figure("receptive_fields", "Receptive-field side per layer: theoretical (from kernels, strides and padding, clipped to the image) and effective (95% of the gradient mass of the centre unit over random images).",
		func(paths ...string) error {
			for _, p := range paths {
				if err := analysis.PlotRF(p, j.g.Name+": receptive field size", rows); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	t := &report.Table{Header: []string{"layer", "type", "shape", "theoretical px", "clipped px", "effective px", "theoretical deg", "effective deg"}}
	deg := func(r analysis.RFRow, px float64) string {
		if px == 0 {
			return "-"
		}
		if v := r.Deg(px); !math.IsNaN(v) {
			return fmt.Sprintf("%.2f", v)
		}
		return "-"
	}
	for _, r := range rows {
		theo := fmt.Sprintf("%.0f", r.Theoretical)
		if r.Global {
			theo = "global"
		}
		eff := "-"
		if r.Effective > 0 {
			eff = fmt.Sprintf("%.0f", r.Effective)
		}
		t.Rows = append(t.Rows, []string{r.Layer, r.Type, shapeText(r.Shape), theo, fmt.Sprintf("%.0f", r.TheoreticalClipped), eff, deg(r, r.Theoretical), deg(r, r.Effective)})
	}
	text := []string{fmt.Sprintf("Theoretical fields grow with every window and stride; effective fields from %d random images (seed %d). Degrees need the model's visual angle (preprocessing visual_degrees).", j.o.ERFImages, j.o.Seed)}
	return []report.Section{{Heading: headings[RF], Text: text, Table: t, Figures: []report.Figure{fig}}}, nil
}

func (j *job) features() ([]report.Section, error) {
	var cand []string
	for _, n := range j.g.Nodes {
		if n.Op.Type() == "conv2d" && len(n.Shape) == 3 {
			cand = append(cand, n.Name)
		}
	}
	if len(cand) == 0 {
		for _, l := range analysis.MainLayers(j.g) {
			if len(j.g.Node(l).Shape) == 3 {
				cand = append(cand, l)
			}
		}
	}
	if len(cand) == 0 {
		return nil, skipf("the model has no layer with a spatial [C H W] output to visualise")
	}
	layers := spread(cand, j.o.VisLayers)
	var figs []report.Figure
	for _, l := range layers {
		var chans []int
		for c := range min(j.o.VisChannels, j.g.Node(l).Shape[0]) {
			chans = append(chans, c)
		}
		v, err := analysis.Visualize(j.g, l, analysis.VisOptions{Channels: chans, Steps: j.o.VisSteps, Seed: j.o.Seed})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l, err)
		}
		file := "features_" + safeName(l) + ".png"
		if err := analysis.WriteGrid(filepath.Join(j.out, file), v.Images, len(v.Images), 0); err != nil {
			return nil, err
		}
		acts := make([]string, len(v.Activation))
		for i, a := range v.Activation {
			acts[i] = fmt.Sprintf("%d: %.3g", v.Channels[i], a)
		}
		figs = append(figs, report.Figure{File: file, Caption: fmt.Sprintf("Layer %s, channels %s (channel: mean activation reached).", l, strings.Join(acts, ", "))})
	}
	text := []string{fmt.Sprintf("Images that maximise the mean activation of the first %d channels of %s: gradient ascent on the input for %d steps with jitter, a Laplacian-pyramid parametrisation, blur and an L2 pull to grey (seed %d).",
		j.o.VisChannels, strings.Join(layers, ", "), j.o.VisSteps, j.o.Seed)}
	return []report.Section{{Heading: headings[Features], Text: text, Figures: figs}}, nil
}

// spread picks k items of s spread evenly from first to last.
func spread(s []string, k int) []string {
	if k >= len(s) {
		return s
	}
	if k <= 1 {
		return s[len(s)-1:]
	}
	var out []string
	for i := range k {
		idx := int(math.Round(float64(i) * float64(len(s)-1) / float64(k-1)))
		if len(out) == 0 || out[len(out)-1] != s[idx] {
			out = append(out, s[idx])
		}
	}
	return out
}

func (j *job) psychometric() ([]report.Section, error) {
	ds, err := j.testData(j.o.CurveLimit)
	if err != nil {
		return nil, err
	}
	c, err := behaviour.NewClassifier(j.g)
	if err != nil {
		return nil, err
	}
	t := &report.Table{Header: []string{"distortion", "levels", "model accuracy (first → last level)", "human data"}}
	var figs []report.Figure
	anyHuman := false
	for _, name := range j.o.Distortions {
		d, err := behaviour.Lookup(name)
		if err != nil {
			return nil, err
		}
		cv, err := behaviour.DistortionCurve(c, ds, behaviour.CurveConfig{Distortion: name, Seed: j.o.Seed})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var human []behaviour.LevelAccuracy
		hum := "none for this distortion"
		if d.Human != "" {
			dir, err := behaviour.HumanDataDir(name)
			if err != nil {
				hum = "not found"
			} else {
				var subjects int
				if human, subjects, err = behaviour.HumanCurve(dir, d.HumanLevel); err != nil {
					return nil, fmt.Errorf("%s: human data: %w", name, err)
				}
				hum = fmt.Sprintf("model-vs-human, %d subjects", subjects)
				anyHuman = true
			}
		}
		base := "psychometric_" + safeName(name)
		if err := behaviour.PlotCurve(filepath.Join(j.out, base), cv, human); err != nil {
			return nil, err
		}
		first, last := cv.Points[0], cv.Points[len(cv.Points)-1]
		t.Rows = append(t.Rows, []string{name, strconv.Itoa(len(cv.Points)),
			fmt.Sprintf("%s (%g) → %s (%g)", f3(first.Accuracy), first.Level, f3(last.Accuracy), last.Level), hum})
		figs = append(figs, report.Figure{File: base + ".png", Caption: fmt.Sprintf("%s: %s", name, d.Doc)})
	}
	text := []string{fmt.Sprintf("Top-1 accuracy of %s at each level of each distortion on %d %s test images (seed %d).", j.g.Name, ds.N, j.dataName, j.o.Seed)}
	if anyHuman {
		text = append(text, "Note: "+behaviour.HumanCaveat+".")
	}
	return []report.Section{{Heading: headings[Psychometric], Text: text, Table: t, Figures: figs}}, nil
}

func (j *job) consistency() ([]report.Section, error) {
	spec, err := behaviour.LoadSpec(j.o.ConsistencySpec)
	if err != nil {
		return nil, err
	}
	classes := models.Classes(j.g)
	var need []string
	for _, v := range spec.ClassMap {
		need = append(need, v)
	}
	slices.Sort(need)
	for _, v := range need {
		if !slices.Contains(classes, v) {
			return nil, skipf("%s needs a model with the classes %s (CIFAR-10), but %s's classes are %s", spec.Name, strings.Join(slices.Compact(need), ", "), j.g.Name, classText(classes))
		}
	}
	b, err := spec.Load()
	if err != nil {
		return nil, skipf("the human trials or stimuli of %s were not found (%v)", spec.Name, err)
	}
	c, err := behaviour.NewClassifier(j.g)
	if err != nil {
		return nil, err
	}
	r, err := b.Consistency(c)
	if err != nil {
		return nil, err
	}
	var subj []string
	var kappa, accM, accH []float64
	t := &report.Table{Header: []string{"subject", "trials", "model accuracy", "human accuracy", "observed consistency", "expected consistency", "kappa"}}
	row := func(name string, a behaviour.Agreement) []string {
		return []string{name, strconv.Itoa(a.N), f3(a.AccA), f3(a.AccB), f3(a.CObs), f3(a.CExp), f3(a.Kappa)}
	}
	for _, s := range r.Subjects {
		subj = append(subj, s.Subject)
		kappa = append(kappa, s.Kappa)
		accM, accH = append(accM, s.AccA), append(accH, s.AccB)
		t.Rows = append(t.Rows, row(s.Subject, s.Agreement))
	}
	t.Rows = append(t.Rows, row("mean (model-human)", r.MeanModel))
	h := r.MeanHuman
	t.Rows = append(t.Rows, []string{fmt.Sprintf("human-human (%d pairs)", len(r.Pairs)), strconv.Itoa(h.N), "-", f3(h.AccB), f3(h.CObs), f3(h.CExp), f3(h.Kappa)})
	t.Highlight = map[int]bool{len(r.Subjects): true}
	fk, err := j.figure("error_consistency", "Error consistency (Cohen's kappa of trial-by-trial correctness, Geirhos et al. 2020) of the model with each subject; dashed: the mean between human subjects, and 0 (independent errors).",
		func(paths ...string) error {
			return report.Bars(j.g.Name+": error consistency with humans", "kappa", subj, []report.Series{{Name: "model-human", Values: kappa}},
				[]report.Ref{{Name: "human-human mean", Value: h.Kappa}, {Name: "independent", Value: 0}}, paths...)
		})
	if err != nil {
		return nil, err
	}
	fa, err := j.figure("consistency_accuracy", "Accuracy on the same trials: model and each subject.",
		func(paths ...string) error {
			return report.Bars(spec.Name+": accuracy on the used trials", "accuracy", subj,
				[]report.Series{{Name: j.g.Name, Values: accM}, {Name: "subject", Values: accH}}, nil, paths...)
		})
	if err != nil {
		return nil, err
	}
	text := []string{
		fmt.Sprintf("%s (%s): %d stimuli; the model answers among the classes %s; model accuracy %s.", spec.Name, spec.Citation, r.Stimuli, strings.Join(slices.Compact(need), ", "), f3(r.ModelAcc)),
		fmt.Sprintf("Mean kappa model-human %s, human-human %s (the ceiling a model of human behaviour should reach).", f3(r.MeanModel.Kappa), f3(h.Kappa)),
	}
	return []report.Section{{Heading: headings[Consistency], Text: text, Table: t, Figures: []report.Figure{fk, fa}}}, nil
}
