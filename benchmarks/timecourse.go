package benchmarks

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/subject"
)

// TimeCourse is the model-brain match over time: the benchmark's RSA comparison of a recurrent
// model's layer at every time step with the neural data in every time bin. Read down a column,
// it says which model step a bin of the recording resembles; the best step per bin, bin after
// bin, is the time course (a model whose processing runs in step with the brain has its best
// steps rising with the bins).
type TimeCourse struct {
	Benchmark  string
	Model      string
	Layer      string      // the recorded node
	Steps      []string    // one recorded layer per model step: Layer@t0, Layer@t1, ...
	Bins       []string    // the data's time bins
	Scores     [][]float64 // [step][bin]: RDM comparison on all stimuli (raw, no ceiling)
	Best       []int       // per bin, the index into Steps of the highest score (-1: none finite)
	Comparison string      // spearman, pearson or kendall_tau_a
	Warnings   []string
}

// StepLayersOf returns the model's per-step layers of node (node@t0 ... in step order).
func StepLayersOf(model subject.Model, node string) ([]string, error) {
	ls, err := model.Layers()
	if err != nil {
		return nil, err
	}
	type st struct {
		name string
		step int
	}
	var found []st
	for _, l := range ls {
		if n, k, ok := nn.SplitStepLayer(l.Name); ok && n == node {
			found = append(found, st{l.Name, k})
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("model %q has no per-step layers of %q (a recurrent model records %s, %s, ...: is %q a layer of a model with steps > 1?)",
			model.Name(), node, nn.StepLayer(node, 0), nn.StepLayer(node, 1), node)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].step < found[j].step })
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.name
	}
	return out, nil
}

// ScoreTimeCourse compares node's RDM at every model step with the data's RDM in every time
// bin. The benchmark must be an RSA benchmark whose data are an assembly (responses, which may
// have time bins; RDM files have none); its rdm_distance and comparison apply, on all
// stimuli. A benchmark without time bins gives one column: which step matches best.
func ScoreTimeCourse(model subject.Model, bench *Spec, node string, opts Options) (*TimeCourse, error) {
	if bench.Metric.Type != "rsa" {
		return nil, fmt.Errorf("benchmark %s: the time course is an RSA analysis; metric %s is not supported", bench.Name, bench.Metric.Type)
	}
	if bench.Data.Kind != "assembly" {
		return nil, fmt.Errorf("benchmark %s: the time course needs responses with time bins (data kind assembly); data of kind %s hold RDMs without time", bench.Name, bench.Data.Kind)
	}
	steps, err := StepLayersOf(model, node)
	if err != nil {
		return nil, err
	}
	set, err := bench.StimulusSet("")
	if err != nil {
		return nil, err
	}
	ids := set.IDs()
	S := len(ids)
	if S < 4 {
		return nil, fmt.Errorf("benchmark %s: %w: rsa needs at least 4 stimuli, have %d", bench.Name, ErrTooFewStimuli, S)
	}
	res := &Result{}
	a, err := bench.loadAssembly(&bench.Data, nil, ids, res)
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bench.Name, err)
	}
	tc := &TimeCourse{Benchmark: bench.Name, Model: model.Name(), Layer: node, Steps: steps, Bins: a.TimeBins, Comparison: bench.Metric.Comparison}
	c := newRSACore(S, bench.Metric.Comparison)
	w := c.weights(subsetCounts(S, identity(S)))
	upper := func(d []float64) []float64 {
		up := make([]float64, 0, c.P)
		for i := 0; i < S; i++ {
			up = append(up, d[i*S+i+1:(i+1)*S]...)
		}
		return up
	}
	bins := make([][]float64, len(a.TimeBins))
	for k := range a.TimeBins {
		b, err := a.SelectTimeBin(k)
		if err != nil {
			return nil, err
		}
		_, F, data := b.Matrix()
		if F < 2 && bench.Metric.RDMDistance == "correlation" {
			return nil, fmt.Errorf("benchmark %s: time bin %s: %d neuroid; the correlation distance needs at least 2", bench.Name, a.TimeBins[k], F)
		}
		v := newVec(upper(neuralRDM(data, S, F, bench.Metric.RDMDistance)))
		if constant(v.x) {
			return nil, fmt.Errorf("benchmark %s: the data RDM of time bin %s is constant: no model step can correlate with it", bench.Name, a.TimeBins[k])
		}
		bins[k] = c.transform(v, w, nil)
	}
	tc.Scores = make([][]float64, len(steps))
	err = extractGroups(model, set, steps, opts, bench.projection(opts.Seed), res, func(first int, feats []*activations.Matrix) error {
		parallel(len(feats), func(i int) {
			f := feats[i]
			m := c.transform(newVec(upper(featureRDM(f.Data, f.Rows, f.Cols, bench.Metric.RDMDistance))), w, nil)
			row := make([]float64, len(bins))
			for k, b := range bins {
				row[k] = c.corr(m, b, w)
			}
			tc.Scores[first+i] = row
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bench.Name, err)
	}
	tc.Warnings = res.Warnings
	tc.Best = make([]int, len(bins))
	for k := range bins {
		tc.Best[k] = -1
		for s := range steps {
			v := tc.Scores[s][k]
			if !math.IsNaN(v) && (tc.Best[k] < 0 || v > tc.Scores[tc.Best[k]][k]) {
				tc.Best[k] = s
			}
		}
	}
	return tc, nil
}

// WriteTable prints the score matrix, model steps down and time bins across, with the best step
// of each bin starred, and a last line with the best step per bin.
func (tc *TimeCourse) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "time course of %s on %s (layer %s, %s correlation of RDMs; * best step per time bin)\n", tc.Model, tc.Benchmark, tc.Layer, tc.Comparison)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "step\\bin\t")
	for _, b := range tc.Bins {
		fmt.Fprintf(tw, "%s\t", b)
	}
	fmt.Fprintln(tw)
	for s, name := range tc.Steps {
		fmt.Fprintf(tw, "%s\t", name)
		for k := range tc.Bins {
			star := " "
			if tc.Best[k] == s {
				star = "*"
			}
			fmt.Fprintf(tw, "%.4f%s\t", tc.Scores[s][k], star)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "best\t")
	for k := range tc.Bins {
		if tc.Best[k] < 0 {
			fmt.Fprint(tw, "-\t")
		} else {
			fmt.Fprintf(tw, "%s\t", tc.Steps[tc.Best[k]])
		}
	}
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range tc.Warnings {
		fmt.Fprintln(w, "warning:", m)
	}
	return nil
}

// WriteCSV writes the matrix in long form: step, layer, time_bin, score, best (1 where the
// step is its bin's best).
func (tc *TimeCourse) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"step", "layer", "time_bin", "score", "best"})
	for s, name := range tc.Steps {
		_, k, _ := nn.SplitStepLayer(name)
		for b, bin := range tc.Bins {
			best := "0"
			if tc.Best[b] == s {
				best = "1"
			}
			cw.Write([]string{strconv.Itoa(k), name, bin, strconv.FormatFloat(tc.Scores[s][b], 'g', 8, 64), best})
		}
	}
	cw.Flush()
	return cw.Error()
}

// BestSteps returns the best step's layer name per time bin ("-" where none), joined by commas.
func (tc *TimeCourse) BestSteps() string {
	out := make([]string, len(tc.Best))
	for k, b := range tc.Best {
		out[k] = "-"
		if b >= 0 {
			out[k] = tc.Steps[b]
		}
	}
	return strings.Join(out, ",")
}
