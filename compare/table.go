package compare

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ventral-lab/ventral/benchmarks"
)

// Alpha is the level at which Answer calls a paired test's difference significant.
const Alpha = 0.05

// JSON returns the table as indented JSON (undefined numbers as null).
func (t *Table) JSON() ([]byte, error) { return json.MarshalIndent(t, "", "  ") }

// MarshalJSON writes NaN scores as null.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	return json.Marshal(struct {
		plain
		HeldOut *float64 `json:"held_out"`
		Score   *float64 `json:"score"`
		CILow   *float64 `json:"ci_low"`
		CIHigh  *float64 `json:"ci_high"`
	}{plain(r), finite(r.HeldOut), finite(r.Score), finite(r.CILow), finite(r.CIHigh)})
}

// MarshalJSON writes NaN statistics (no test) as null.
func (x Test) MarshalJSON() ([]byte, error) {
	type plain Test
	return json.Marshal(struct {
		plain
		Diff     *float64 `json:"diff"`
		DiffLow  *float64 `json:"diff_ci_low"`
		DiffHigh *float64 `json:"diff_ci_high"`
		P        *float64 `json:"p"`
		PHolm    *float64 `json:"p_holm"`
	}{plain(x), finite(x.Diff), finite(x.DiffLow), finite(x.DiffHigh), finite(x.P), finite(x.PHolm)})
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func num(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func optNum(x *float64) string {
	if x == nil {
		return "-"
	}
	return num(*x)
}

func shortKind(k string) string {
	switch k {
	case Trained:
		return "trained"
	case Precomputed:
		return "precomputed"
	}
	return "untrained"
}

// WriteTable prints one line per model and benchmark, the paired tests and the answers.
func (t *Table) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tkind\tbenchmark\tbest layer\theld-out\tnormalised\tscore (all)\t95% interval\ttime\t")
	above := false
	for _, r := range t.Rows {
		norm := optNum(r.HeldOutNormalized)
		if r.AboveCeiling {
			norm += benchmarks.AboveCeilingMark
			above = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t[%s, %s]\t%.1fs\t\n", r.name(), shortKind(r.Kind), r.Benchmark, r.BestLayer,
			num(r.HeldOut), norm, num(r.Score), num(r.CILow), num(r.CIHigh), r.Seconds+r.PrepSeconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if above {
		fmt.Fprintln(w, benchmarks.AboveCeilingNote+" (held-out or on all stimuli).")
	}
	fmt.Fprintln(w, "best layer: chosen on half of the stimuli (seeded split), held-out: its score on the other half;")
	fmt.Fprintln(w, "normalised: held-out score / noise ceiling upper bound on that half; score (all): the best layer on all stimuli, 95% bootstrap interval over stimuli.")
	if t.Prototypes != "" {
		fmt.Fprintf(w, "HMAX S2 prototypes sampled from %s.\n", t.Prototypes)
	}
	for _, x := range t.Tests {
		if x.Note == "" {
			fmt.Fprintf(w, "test %s: %s\n", x.Benchmark, x.Method)
		}
	}
	fmt.Fprintln(w)
	for _, a := range t.Answers {
		fmt.Fprintln(w, a)
	}
	_, err := fmt.Fprintf(w, "\ncompared in %.1fs (seed %d)\n", t.Seconds, t.Seed)
	return err
}

// WriteCSV writes one record per model and benchmark.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"model", "label", "network", "kind", "weights", "benchmark", "region", "best_layer", "held_out", "held_out_normalized",
		"score", "ci_low", "ci_high", "normalized", "ceiling", "bootstrap", "seed", "seconds", "prep_seconds", "run_id", "above_ceiling"})
	f := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	p := func(x *float64) string {
		if x == nil {
			return ""
		}
		return f(*x)
	}
	for _, r := range t.Rows {
		cw.Write([]string{r.Model, r.name(), r.Network, r.Kind, r.Weights, r.Benchmark, r.Region, r.BestLayer, f(r.HeldOut), p(r.HeldOutNormalized),
			f(r.Score), f(r.CILow), f(r.CIHigh), p(r.Normalized), f(r.Ceiling), strconv.Itoa(r.Bootstrap),
			strconv.FormatUint(t.Seed, 10), f(r.Seconds), f(r.PrepSeconds), strconv.FormatInt(r.RunID, 10), strconv.FormatBool(r.AboveCeiling)})
	}
	cw.Flush()
	return cw.Error()
}

// Answer is the one-paragraph answer for one benchmark: the best model other than HMAX against
// HMAX on held-out stimuli (the winner is the one with the higher held-out score) and the
// paired bootstrap test of their best layers.
func Answer(t *Table, bench string) string {
	rows := rowsOf(t.Rows, bench)
	if len(rows) == 0 {
		return bench + ": no results."
	}
	head := bench
	if rows[0].Region != "" {
		head += " (" + rows[0].Region + ")"
	}
	best, hmax := leaders(rows)
	score := func(r *Row) string {
		return num(r.HeldOut)
	}
	norm := func(a, b *Row) string {
		if a.HeldOutNormalized == nil || b.HeldOutNormalized == nil {
			return ""
		}
		return fmt.Sprintf(" (normalised %s vs %s)", num(*a.HeldOutNormalized), num(*b.HeldOutNormalized))
	}
	switch {
	case best == nil && hmax == nil:
		return head + ": no model gave a finite score."
	case hmax == nil:
		return fmt.Sprintf("%s: best model %s (%s), held-out %s; no HMAX model was compared.", head, best.name(), best.Kind, score(best))
	case best == nil:
		return fmt.Sprintf("%s: only %s was scored, held-out %s.", head, hmax.name(), score(hmax))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s) %s vs %s %s held-out%s: ", head, best.name(), best.Kind, score(best), hmax.name(), score(hmax), norm(best, hmax))
	if best.HeldOut > hmax.HeldOut {
		fmt.Fprintf(&b, "%s is ahead of %s", best.name(), hmax.name())
	} else {
		fmt.Fprintf(&b, "%s is ahead: no other model beats it", hmax.name())
	}
	var test *Test
	for i := range t.Tests {
		if t.Tests[i].Benchmark == bench {
			test = &t.Tests[i]
		}
	}
	writeTest(&b, best, hmax, test)
	return b.String()
}

// writeTest appends a paired test's outcome to an answer.
func writeTest(b *strings.Builder, a, ref *Row, test *Test) {
	switch {
	case test == nil:
		b.WriteString(".")
	case test.Note != "" || math.IsNaN(test.P):
		fmt.Fprintf(b, "; no paired test (%s).", test.Note)
	default:
		fmt.Fprintf(b, "; paired bootstrap of the held-out scores: %s - %s = %+.3f [%s, %s], p=%.3g", a.name(), ref.name(),
			test.Diff, num(test.DiffLow), num(test.DiffHigh), test.P)
		p := test.P
		if test.Family > 1 {
			fmt.Fprintf(b, ", Holm-adjusted over the %d tests of this table p=%.3g", test.Family, test.PHolm)
			p = test.PHolm
		}
		if p < Alpha {
			fmt.Fprintf(b, " (significant at %.2g).", Alpha)
		} else {
			fmt.Fprintf(b, " (not significant at %.2g).", Alpha)
		}
	}
}

// answerPair is the answer for one model against the reference of Config.Against.
func answerPair(a, ref *Row, test *Test) string {
	var b strings.Builder
	head := a.Benchmark
	if a.Region != "" {
		head += " (" + a.Region + ")"
	}
	fmt.Fprintf(&b, "%s: %s (%s) %s vs %s %s held-out", head, a.name(), a.Kind, num(a.HeldOut), ref.name(), num(ref.HeldOut))
	if a.HeldOutNormalized != nil && ref.HeldOutNormalized != nil {
		fmt.Fprintf(&b, " (normalised %s vs %s)", num(*a.HeldOutNormalized), num(*ref.HeldOutNormalized))
	}
	writeTest(&b, a, ref, test)
	return b.String()
}

// name is the row's label, or its model when it has none.
func (r Row) name() string {
	if r.Label != "" {
		return r.Label
	}
	return r.Model
}
