package hierarchy

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ventral-lab/ventral/compare"
)

// Verdicts of a claim.
const (
	Holds     = "HOLDS"
	Fails     = "FAILS"
	Undecided = "CANNOT BE DECIDED"
)

// Claim is one of the seed's claims with its verdict and the numbers behind it.
type Claim struct {
	Claim, Verdict string
	Evidence       []string
}

// Claims judges the seed's claims from the tests (alpha compare.Alpha, Holm-adjusted p).
func (o *Outcome) Claims() []Claim {
	var out []Claim
	// 1. Trained beats random, per region.
	for _, region := range Regions {
		c := Claim{Claim: fmt.Sprintf("ImageNet training makes networks more like %s than their random controls", region)}
		var pos, neg, n int
		for _, t := range o.Controls {
			if o.regionOf(t.Benchmark) != region {
				continue
			}
			n++
			sig := !math.IsNaN(t.PHolm) && t.PHolm < compare.Alpha
			if sig && t.Diff > 0 {
				pos++
			}
			if sig && t.Diff < 0 {
				neg++
			}
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s on %s: %s", t.Model, t.Benchmark, fmtTest(t)))
		}
		switch {
		case n == 0:
			continue
		case pos == n:
			c.Verdict = Holds
		case neg > 0 && pos == 0:
			c.Verdict = Fails
		case pos == 0:
			c.Verdict = Undecided
		default:
			c.Verdict = Undecided
		}
		c.Verdict += fmt.Sprintf(" (%d of %d trained-vs-random tests significantly positive, %d significantly negative, Holm alpha %.2g)", pos, n, neg, compare.Alpha)
		out = append(out, c)
	}
	// 2. Depth ordering.
	if len(o.Orders) > 0 {
		c := Claim{Claim: "Within each trained network the best layer deepens along the stream: V1 < V4 < IT"}
		var held, violated int
		for _, d := range o.Orders {
			ordered := d.Depth["V1"] < d.Depth["V4"] && d.Depth["V4"] < d.Depth["IT"]
			if d.PHolm < compare.Alpha {
				held++
			} else if !ordered {
				violated++
			}
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s: depths V1 %.2f, V4 %.2f, IT %.2f; P(order) %.2f, p %.3g (Holm %.3g)", d.Model, d.Depth["V1"], d.Depth["V4"], d.Depth["IT"], d.Prob, d.P, d.PHolm))
		}
		switch {
		case held == len(o.Orders):
			c.Verdict = Holds
		case violated == len(o.Orders):
			c.Verdict = Fails
		default:
			c.Verdict = Undecided
		}
		c.Verdict += fmt.Sprintf(" (%d of %d networks significantly ordered; %d with point estimates out of order)", held, len(o.Orders), violated)
		out = append(out, c)
	}
	// 3. Performance vs brain score.
	for _, region := range Regions {
		for _, cor := range o.Correlations {
			if cor.Scope != region {
				continue
			}
			c := Claim{Claim: fmt.Sprintf("Better ImageNet performance goes with a better %s score (%s)", region, cor.Set)}
			switch {
			case math.IsNaN(cor.P):
				c.Verdict = Undecided + " (too few models)"
			case cor.P < compare.Alpha && cor.Rho > 0:
				c.Verdict = Holds
			case cor.P < compare.Alpha && cor.Rho < 0:
				c.Verdict = Fails + " (significantly negative)"
			default:
				c.Verdict = Undecided + " (not significant)"
			}
			c.Evidence = append(c.Evidence, fmt.Sprintf("Spearman rho %.3f, permutation p %.3g, n %d: %s", cor.Rho, cor.P, len(cor.Models), strings.Join(cor.Models, ", ")))
			out = append(out, c)
		}
	}
	// 4. Trained deep networks beat HMAX.
	if len(o.VsHMAX) > 0 {
		c := Claim{Claim: "The best trained deep network beats HMAX (Khaligh-Razavi and Kriegeskorte 2014)"}
		var pos, neg int
		for _, t := range o.VsHMAX {
			if t.PHolm < compare.Alpha && t.Diff > 0 {
				pos++
			} else if t.PHolm < compare.Alpha && t.Diff < 0 {
				neg++
			}
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s vs %s on %s: %s", t.Model, t.Reference, t.Benchmark, fmtTest(t)))
		}
		switch {
		case pos == len(o.VsHMAX):
			c.Verdict = Holds
		case neg > 0 && pos == 0:
			c.Verdict = Fails
		default:
			c.Verdict = Undecided
		}
		c.Verdict += fmt.Sprintf(" (%d of %d benchmarks significantly better, %d significantly worse)", pos, len(o.VsHMAX), neg)
		out = append(out, c)
	}
	return out
}

func (o *Outcome) regionOf(bench string) string {
	for _, s := range o.Benchmarks {
		if s.Name == bench {
			return s.Region
		}
	}
	return ""
}

// WriteSummary prints the claims with their verdicts and numbers, then the tables.
func (o *Outcome) WriteSummary(w io.Writer) error {
	fmt.Fprintln(w, "Do ImageNet-trained networks model the ventral stream? The seed's claims, measured")
	fmt.Fprintln(w)
	for _, c := range o.Claims() {
		fmt.Fprintf(w, "- %s: %s\n", c.Claim, c.Verdict)
		for _, e := range c.Evidence {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
	fmt.Fprintln(w, "\nMethods: best layer chosen on the selection data and scored on the held-out data (benchmarks.Score);")
	fmt.Fprintln(w, "depth intervals re-select the best layer in each bootstrap resample of the profile (rsa: all stimuli,")
	fmt.Fprintln(w, "ridge: test stimuli, pls: folds), so it can exclude the chosen layer where the selection data and the")
	fmt.Fprintln(w, "resampled data peak at different depths; task performance is published ImageNet top-1, not measured here")
	fmt.Fprintln(w, "(a CIFAR-trained network's is its CIFAR-10 test accuracy, measured here: another task, in no ImageNet correlation).")
	fmt.Fprintln(w)
	return o.WriteTables(w)
}
