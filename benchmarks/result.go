package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Floats is a list of numbers whose NaNs (e.g. an excluded neuroid's score) are written to
// JSON as null and read back as NaN.
type Floats []float64

// MarshalJSON implements json.Marshaler.
func (f Floats) MarshalJSON() ([]byte, error) {
	p := make([]*float64, len(f))
	for i := range f {
		if !math.IsNaN(f[i]) && !math.IsInf(f[i], 0) {
			p[i] = &f[i]
		}
	}
	return json.Marshal(p)
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Floats) UnmarshalJSON(b []byte) error {
	var p []*float64
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	out := make(Floats, len(p))
	for i, v := range p {
		out[i] = math.NaN()
		if v != nil {
			out[i] = *v
		}
	}
	*f = out
	return nil
}

// LayerScore is one layer's score on a benchmark.
type LayerScore struct {
	Layer string `json:"layer"`
	// Score is the raw score: for rsa over all stimuli, for ridge on the test stimuli, for pls
	// the mean over cross-validation folds (SE its standard error over folds, FoldScores the
	// folds' scores).
	Score      float64  `json:"score"`
	SE         *float64 `json:"se,omitempty"`
	FoldScores Floats   `json:"fold_scores,omitempty"`
	// Normalized is Score / ceiling (nil without a ceiling).
	Normalized *float64 `json:"normalized,omitempty"`
	// CILow and CIHigh bound the 95% percentile bootstrap interval of Score (over stimuli; for
	// pls over folds); NormCILow/High that of Normalized.
	CILow      float64  `json:"ci_low"`
	CIHigh     float64  `json:"ci_high"`
	NormCILow  *float64 `json:"normalized_ci_low,omitempty"`
	NormCIHigh *float64 `json:"normalized_ci_high,omitempty"`
	// AboveCeiling flags a normalised score above 1: the layer scores higher than the data's
	// own reliability estimate, which is then an underestimate or does not bound this score
	// (r / reliability exceeds 1 for a model of the noise-free signal); tables mark it
	// (AboveCeilingMark, AboveCeilingNote), it is never printed silently.
	AboveCeiling bool `json:"above_ceiling,omitempty"`
	// Selection is the score used to choose the best layer, on data apart from the data that
	// scores it (rsa: the selection half of the stimuli; regression: inner cross-validation on
	// the training stimuli).
	Selection float64 `json:"selection_score"`
	// PerNeuroid is the score of each neuroid (regression metrics: Pearson r on the test
	// stimuli for ridge, mean over folds for pls), in the order of Result.Neuroids; null where a
	// neuroid could not be scored.
	PerNeuroid Floats `json:"per_neuroid,omitempty"`
}

// Ceiling is the data's reliability estimate.
type Ceiling struct {
	Method string  `json:"method"` // rsa-noise-ceiling, split-half or none
	Lower  float64 `json:"lower,omitempty"`
	Upper  float64 `json:"upper,omitempty"`
	// Value is what scores are divided by (the upper bound for rsa-noise-ceiling).
	Value float64 `json:"value,omitempty"`
	// Unit is what the rsa-noise-ceiling counts as one observer (rdm, session or subject:
	// a subject's sessions averaged) and Units how many there were.
	Unit  string `json:"unit,omitempty"`
	Units int    `json:"units,omitempty"`
	Note  string `json:"note,omitempty"`
	// Stimuli and Neuroids are what a split-half ceiling used: the stimuli with at least 2
	// present repetitions for every neuroid, and the neuroids with a finite reliability.
	Stimuli  int `json:"stimuli,omitempty"`
	Neuroids int `json:"neuroids,omitempty"`
}

// Result is the outcome of scoring one model on one benchmark.
type Result struct {
	Benchmark   string       `json:"benchmark"`
	Version     int          `json:"version"`
	Region      string       `json:"region"`
	Model       string       `json:"model"`
	ModelDigest string       `json:"model_digest"`
	Seed        uint64       `json:"seed"`
	Bootstrap   int          `json:"bootstrap"`
	Metric      string       `json:"metric"`
	Ceiling     Ceiling      `json:"ceiling"`
	Formula     string       `json:"formula"`
	Layers      []LayerScore `json:"layers"`
	// Neuroids names the scored neuroids (regression metrics; neuroid@time bin with several
	// bins) and NeuroidCeiling their split-half ceilings (with ceiling split-half).
	Neuroids       []string `json:"neuroids,omitempty"`
	NeuroidCeiling Floats   `json:"neuroid_ceiling,omitempty"`
	// BestLayer is the model's layer for the benchmark's region, chosen on the selection data;
	// HeldOut is its score on the held-out data (HeldOutNormalized divided by the ceiling
	// estimated on the same held-out data).
	BestLayer         string   `json:"best_layer"`
	Selection         string   `json:"selection"`
	HeldOut           float64  `json:"held_out_score"`
	HeldOutNormalized *float64 `json:"held_out_normalized,omitempty"`
	// HeldOutAboveCeiling flags a HeldOutNormalized above 1 (see LayerScore.AboveCeiling).
	HeldOutAboveCeiling bool `json:"held_out_above_ceiling,omitempty"`
	// HeldOutSamples is HeldOut under each of Bootstrap resamples of the held-out data (rsa:
	// the held-out stimuli; ridge: the test stimuli; pls: the held-out half's folds), drawn from
	// the seed alone, so that two models scored with the same seed on the same benchmark are
	// resampled alike: the paired model-vs-model test (compare.TestPair) compares them.
	// HeldOutResampling says what was resampled. Not written to JSON.
	HeldOutSamples []float64 `json:"-"`
	// LayerSamples[i][b] is the score of Layers[i] under bootstrap resample b of the data that
	// give the layers' intervals (rsa: all stimuli; ridge: the test stimuli; pls: the folds),
	// one resample for all layers alike, so that the argmax over layers per resample is a
	// bootstrap draw of the best layer (its depth's interval). Not written to JSON.
	LayerSamples      [][]float64 `json:"-"`
	HeldOutResampling string      `json:"held_out_resampling,omitempty"`
	// SecondLayer is the best of the other layers on the profile; BestVsSecondP is the
	// one-sided bootstrap p value that the best layer's score is not above SecondLayer's.
	SecondLayer   string   `json:"second_layer,omitempty"`
	BestVsSecondP float64  `json:"best_vs_second_p,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Best returns the best layer's LayerScore.
func (r *Result) Best() LayerScore {
	for _, l := range r.Layers {
		if l.Layer == r.BestLayer {
			return l
		}
	}
	return LayerScore{}
}

// AboveCeilingMark is the table mark of a normalised score above 1; AboveCeilingNote its
// footnote.
const (
	AboveCeilingMark = "†"
	AboveCeilingNote = "† normalised score above 1: the model scores above the data's ceiling estimate (an estimate from few repetitions or subjects; and r divided by a reliability exceeds 1 for a model that predicts the noise-free signal): read it as at the ceiling, not as a fraction of the explainable variance"
)

// NormMark is AboveCeilingMark for a normalised score above 1, "" otherwise (nil included):
// every printer of normalised scores appends it, and prints AboveCeilingNote once when used.
func NormMark(v *float64) string {
	if v != nil && *v > 1 {
		return AboveCeilingMark
	}
	return ""
}

// markAboveCeiling flags every normalised score above 1 and adds one warning naming them.
func (r *Result) markAboveCeiling() {
	var which []string
	for i := range r.Layers {
		l := &r.Layers[i]
		if l.Normalized != nil && *l.Normalized > 1 {
			l.AboveCeiling = true
			which = append(which, fmt.Sprintf("%s %.3f", l.Layer, *l.Normalized))
		}
	}
	if r.HeldOutNormalized != nil && *r.HeldOutNormalized > 1 {
		r.HeldOutAboveCeiling = true
		which = append(which, fmt.Sprintf("held-out %s %.3f", r.BestLayer, *r.HeldOutNormalized))
	}
	if len(which) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("normalised scores above 1 (%s): above the ceiling estimate, see the note on %s", strings.Join(which, ", "), AboveCeilingMark))
	}
}

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteTable renders the per-layer table (the best layer marked with *) and a summary.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s v%d (%s, %s) — model %s\n", r.Benchmark, r.Version, r.Region, r.Metric, r.Model)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hasSE := false
	for _, l := range r.Layers {
		hasSE = hasSE || l.SE != nil
	}
	if hasSE {
		fmt.Fprintln(tw, "\tlayer\tscore\tse\tceiling\tnormalised\t95% interval\t")
	} else {
		fmt.Fprintln(tw, "\tlayer\tscore\tceiling\tnormalised\t95% interval\t")
	}
	ceil := "-"
	if r.Ceiling.Method != "none" {
		ceil = fmt.Sprintf("%.3f", r.Ceiling.Value)
	}
	for _, l := range r.Layers {
		mark := ""
		if l.Layer == r.BestLayer {
			mark = "*"
		}
		norm := "-"
		if l.Normalized != nil {
			norm = fmt.Sprintf("%.3f", *l.Normalized)
			if l.AboveCeiling {
				norm += AboveCeilingMark
			}
		}
		se := ""
		if hasSE {
			se = "-\t"
			if l.SE != nil {
				se = fmt.Sprintf("%.3f\t", *l.SE)
			}
		}
		ci := "no bootstrap"
		if r.Bootstrap > 0 {
			ci = fmt.Sprintf("[%.3f, %.3f]", l.CILow, l.CIHigh)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s%s\t%s\t%s\t\n", mark, l.Layer, l.Score, se, ceil, norm, ci)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ceiling: %s", r.Ceiling.Method)
	if r.Ceiling.Method == "rsa-noise-ceiling" {
		fmt.Fprintf(&b, " over %d %ss", r.Ceiling.Units, r.Ceiling.Unit)
		if r.Ceiling.Unit == "subject" {
			b.WriteString(" (each subject's RDMs averaged; lower bound leaves one subject out)")
		}
		fmt.Fprintf(&b, " (lower %.3f, upper %.3f)", r.Ceiling.Lower, r.Ceiling.Upper)
	}
	if r.Ceiling.Method == "split-half" {
		fmt.Fprintf(&b, " (%.3f, median over %d neuroids; %d stimuli with 2 or more repetitions)", r.Ceiling.Value, r.Ceiling.Neuroids, r.Ceiling.Stimuli)
	}
	fmt.Fprintf(&b, "; %s\n", r.Formula)
	fmt.Fprintf(&b, "best layer (%s): %s, held-out score %.3f", r.Selection, r.BestLayer, r.HeldOut)
	if r.HeldOutNormalized != nil {
		mark := ""
		if r.HeldOutAboveCeiling {
			mark = AboveCeilingMark
		}
		fmt.Fprintf(&b, " (normalised %.3f%s)", *r.HeldOutNormalized, mark)
	}
	b.WriteString("\n")
	if r.SecondLayer != "" {
		fmt.Fprintf(&b, "best vs second (%s): bootstrap p = %.4f (%d samples)\n", r.SecondLayer, r.BestVsSecondP, r.Bootstrap)
	}
	above := r.HeldOutAboveCeiling
	for _, l := range r.Layers {
		above = above || l.AboveCeiling
	}
	if above {
		b.WriteString(AboveCeilingNote + "\n")
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
