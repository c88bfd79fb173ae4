package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// LayerScore is one layer's score on a benchmark.
type LayerScore struct {
	Layer string `json:"layer"`
	// Score is the raw score: for rsa over all stimuli, for regression on the test stimuli.
	Score float64 `json:"score"`
	// Normalized is Score / ceiling (nil without a ceiling).
	Normalized *float64 `json:"normalized,omitempty"`
	// CILow and CIHigh bound the 95% percentile bootstrap interval of Score (over stimuli);
	// NormCILow/High that of Normalized.
	CILow      float64  `json:"ci_low"`
	CIHigh     float64  `json:"ci_high"`
	NormCILow  *float64 `json:"normalized_ci_low,omitempty"`
	NormCIHigh *float64 `json:"normalized_ci_high,omitempty"`
	// Selection is the score used to choose the best layer, on data apart from the data that
	// scores it (rsa: the selection half of the stimuli; regression: inner cross-validation on
	// the training stimuli).
	Selection float64 `json:"selection_score"`
}

// Ceiling is the data's reliability estimate.
type Ceiling struct {
	Method string  `json:"method"` // rsa-noise-ceiling, split-half or none
	Lower  float64 `json:"lower,omitempty"`
	Upper  float64 `json:"upper,omitempty"`
	// Value is what scores are divided by (the upper bound for rsa-noise-ceiling).
	Value float64 `json:"value,omitempty"`
	Note  string  `json:"note,omitempty"`
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
	// BestLayer is the model's layer for the benchmark's region, chosen on the selection data;
	// HeldOut is its score on the held-out data (HeldOutNormalized divided by the ceiling
	// estimated on the same held-out data).
	BestLayer         string   `json:"best_layer"`
	Selection         string   `json:"selection"`
	HeldOut           float64  `json:"held_out_score"`
	HeldOutNormalized *float64 `json:"held_out_normalized,omitempty"`
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

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteTable renders the per-layer table (the best layer marked with *) and a summary.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s v%d (%s, %s) — model %s\n", r.Benchmark, r.Version, r.Region, r.Metric, r.Model)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tlayer\tscore\tceiling\tnormalised\t95% interval\t")
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
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%s\t[%.3f, %.3f]\t\n", mark, l.Layer, l.Score, ceil, norm, l.CILow, l.CIHigh)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ceiling: %s", r.Ceiling.Method)
	if r.Ceiling.Method == "rsa-noise-ceiling" {
		fmt.Fprintf(&b, " (lower %.3f, upper %.3f)", r.Ceiling.Lower, r.Ceiling.Upper)
	}
	fmt.Fprintf(&b, "; %s\n", r.Formula)
	fmt.Fprintf(&b, "best layer (%s): %s, held-out score %.3f", r.Selection, r.BestLayer, r.HeldOut)
	if r.HeldOutNormalized != nil {
		fmt.Fprintf(&b, " (normalised %.3f)", *r.HeldOutNormalized)
	}
	b.WriteString("\n")
	if r.SecondLayer != "" {
		fmt.Fprintf(&b, "best vs second (%s): bootstrap p = %.4f (%d samples)\n", r.SecondLayer, r.BestVsSecondP, r.Bootstrap)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
