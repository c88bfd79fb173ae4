package behaviour

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

func agreementCols(a Agreement) []string {
	return []string{strconv.Itoa(a.N), ftoa(a.AccA), ftoa(a.AccB), ftoa(a.AccDiff), ftoa(a.CObs), ftoa(a.CExp), ftoa(a.Kappa)}
}

// WriteCSV writes one row per model-subject comparison and per subject pair, then the means:
// kind,a,b,n,acc_a,acc_b,acc_diff,c_obs,c_exp,kappa.
func (r *ConsistencyResult) WriteCSV(path string) error {
	rows := [][]string{{"kind", "a", "b", "n", "acc_a", "acc_b", "acc_diff", "c_obs", "c_exp", "kappa"}}
	for _, s := range r.Subjects {
		rows = append(rows, append([]string{"model-human", r.Model, s.Subject}, agreementCols(s.Agreement)...))
	}
	for _, p := range r.Pairs {
		rows = append(rows, append([]string{"human-human", p.A, p.B}, agreementCols(p.Agreement)...))
	}
	rows = append(rows, append([]string{"mean model-human", r.Model, "humans"}, agreementCols(r.MeanModel)...))
	rows = append(rows, append([]string{"mean human-human", "humans", "humans"}, agreementCols(r.MeanHuman)...))
	return writeCSV(path, rows)
}

// WriteTable prints the per-subject comparison and the human-human ceiling.
func (r *ConsistencyResult) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "benchmark %s, model %s: %d stimuli, model accuracy %.3f\n", r.Spec, r.Model, r.Stimuli, r.ModelAcc)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "subject\ttrials\tacc model\tacc human\tacc diff\tc_obs\tc_exp\tkappa\t")
	row := func(name string, a Agreement) {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%+.3f\t%.3f\t%.3f\t%.3f\t\n", name, a.N, a.AccA, a.AccB, a.AccDiff, a.CObs, a.CExp, a.Kappa)
	}
	for _, s := range r.Subjects {
		row(s.Subject, s.Agreement)
	}
	row("mean", r.MeanModel)
	h := r.MeanHuman
	fmt.Fprintf(tw, "human-human (%d pairs)\t%d\t\t%.3f\t\t%.3f\t%.3f\t%.3f\t\n", len(r.Pairs), h.N, h.AccA, h.CObs, h.CExp, h.Kappa)
	return tw.Flush()
}

// WriteCSV writes one row per attacked image.
func (r *AttackResult) WriteCSV(path string) error {
	rows := [][]string{{"index", "label", "adversarial", "flipped", "eps", "l2", "linf"}}
	for _, im := range r.PerImage {
		rows = append(rows, []string{strconv.Itoa(im.Index), strconv.Itoa(im.Label), strconv.Itoa(im.Adv),
			strconv.FormatBool(im.Flipped), ftoa(im.Eps), ftoa(im.L2), ftoa(im.Linf)})
	}
	return writeCSV(path, rows)
}

// WriteTable prints the attack summary.
func (r *AttackResult) WriteTable(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s on %s (%s, eps <= %g): %d images, %d correct and attacked, %d flipped (%.1f%%)\n"+
		"  L-inf: mean %.4f median %.4f   L2: mean %.4f median %.4f   (pixels in [0,1])\n",
		r.Method, r.Model, r.Data, r.MaxEps, r.Images, r.Attacked, r.Flipped, 100*float64(r.Flipped)/math.Max(1, float64(r.Attacked)),
		r.MeanLinf, r.MedianLinf, r.MeanL2, r.MedianL2)
	return err
}

// WriteCurveTable prints a curve with the human accuracies at matching levels (NaN when none).
func WriteCurveTable(w io.Writer, c *Curve, human []LevelAccuracy) error {
	fmt.Fprintf(w, "%s: %s on %s (chance %.3f)\n", c.Distortion, c.Model, c.Data, c.Chance)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tmodel acc\tn\thuman acc\t")
	for _, p := range c.Points {
		h := math.NaN()
		for _, q := range human {
			if q.Level == p.Level {
				h = q.Accuracy
			}
		}
		fmt.Fprintf(tw, "%g\t%.3f\t%d\t%.3f\t\n", p.Level, p.Accuracy, p.N, h)
	}
	return tw.Flush()
}
