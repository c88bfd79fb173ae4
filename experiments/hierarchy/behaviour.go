package hierarchy

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/nn"
)

// DefaultBehaviour is the behavioural benchmark of the ImageNet networks: Geirhos et al.'s
// edge images (shape only) in the 16 ImageNet categories, with the 10 human observers.
const DefaultBehaviour = "geirhos-edges-imagenet16"

// DefaultCIFARBehaviour is the CIFAR-10 networks' counterpart: the same images and observers,
// restricted to the 7 categories that are CIFAR-10 classes (70 of each observer's 160 trials),
// the network answering among those 7 classes.
const DefaultCIFARBehaviour = "geirhos-edges-cifar10"

// Behaviour is one classifier's trial-level comparison with the human observers.
type Behaviour struct {
	Model string
	// Spec is the behavioural benchmark (DefaultBehaviour for ImageNet classifiers,
	// DefaultCIFARBehaviour for CIFAR-10 ones); Categories its number of categories.
	Spec       string
	Categories int
	Stimuli    int
	Accuracy   float64
	// Kappa and CObs: error consistency and observed consistency with the humans (mean over
	// observers); HumanKappa and HumanCObs the same between pairs of humans (the ceiling).
	Kappa, CObs, HumanKappa, HumanCObs float64
	HumanAccuracy                      float64 // mean over observers
	// PerCategory: the model's and the humans' accuracy per category (shape-only images).
	PerCategory []CategoryAccuracy
}

// CategoryAccuracy is accuracy and error consistency on one category's images.
type CategoryAccuracy struct {
	Category      string
	Images        int
	Model, Humans float64
	HumanTrials   int
	// Kappa is the model's error consistency with the observers on the category's trials
	// (mean over observers with a defined kappa), HumanKappa the same between pairs of
	// observers; NaN where no observer (pair) has one.
	Kappa, HumanKappa float64
}

// behaviourOf runs the behavioural benchmark on g (nil, nil when bm is nil).
func behaviourOf(bm *behaviour.Benchmark, name string, g *nn.Graph) (*Behaviour, error) {
	if bm == nil {
		return nil, nil
	}
	c, err := behaviour.NewClassifier(g)
	if err != nil {
		return nil, err
	}
	r, err := bm.Consistency(c)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", name, bm.Spec.Name, err)
	}
	out := &Behaviour{Model: name, Spec: bm.Spec.Name, Stimuli: r.Stimuli, Accuracy: r.ModelAcc, Kappa: r.MeanModel.Kappa, CObs: r.MeanModel.CObs,
		HumanKappa: r.MeanHuman.Kappa, HumanCObs: r.MeanHuman.CObs, HumanAccuracy: math.NaN()}
	out.PerCategory, out.HumanAccuracy = perCategory(bm, r.Answers)
	out.Categories = len(out.PerCategory)
	return out, nil
}

func (o *Outcome) behaviourCSVs(p func(string) string, add func(string, error) error) error {
	if len(o.Behaviour) == 0 {
		return nil
	}
	var rows, cats [][]string
	for _, b := range o.Behaviour {
		rows = append(rows, []string{b.Model, b.Spec, strconv.Itoa(b.Categories), strconv.Itoa(b.Stimuli), f6(b.Accuracy), f6(b.Kappa), f6(b.CObs),
			f6(b.HumanAccuracy), f6(b.HumanKappa), f6(b.HumanCObs)})
		for _, c := range b.PerCategory {
			cats = append(cats, []string{b.Model, b.Spec, c.Category, strconv.Itoa(c.Images), f6(c.Model), f6(c.Kappa), strconv.Itoa(c.HumanTrials),
				f6(c.Humans), f6(c.HumanKappa)})
		}
	}
	if err := add("behaviour.csv", writeCSV(p("behaviour.csv"), []string{"model", "spec", "categories", "stimuli", "accuracy", "error_consistency_kappa",
		"observed_consistency", "human_accuracy", "human_human_kappa", "human_human_observed_consistency"}, rows)); err != nil {
		return err
	}
	return add("behaviour_categories.csv", writeCSV(p("behaviour_categories.csv"), []string{"model", "spec", "category", "images", "model_accuracy",
		"model_human_kappa", "human_trials", "human_accuracy", "human_human_kappa"}, cats))
}

// behaviourSpecs lists the behavioural specs run, ImageNet first.
func (o *Outcome) behaviourSpecs() []string {
	var out []string
	for _, b := range o.Behaviour {
		if !slices.Contains(out, b.Spec) {
			out = append(out, b.Spec)
		}
	}
	return out
}

func (o *Outcome) writeBehaviour(w io.Writer) error {
	if o.BehaviourNote != "" {
		fmt.Fprintf(w, "\nBehaviour: %s\n", o.BehaviourNote)
	}
	if len(o.Behaviour) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nBehaviour on Geirhos et al.'s shape-only edge images: accuracy and error consistency (kappa) with the 10 human")
	fmt.Fprintln(w, "observers, beside human-human consistency on the same trials. ImageNet networks answer among all 16 categories")
	fmt.Fprintln(w, "(160 images); CIFAR-10 networks among the 7 categories that are CIFAR-10 classes (70 images, its own human ceiling).")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tcategories\timages\taccuracy\tkappa\tobserved consistency\thumans: accuracy\thuman-human kappa")
	for _, spec := range o.behaviourSpecs() {
		for _, b := range o.Behaviour {
			if b.Spec == spec {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", b.Model, b.Categories, b.Stimuli, b.Accuracy, b.Kappa, b.CObs, b.HumanAccuracy, b.HumanKappa)
			}
		}
	}
	tw.Flush()
	for _, spec := range o.behaviourSpecs() {
		var trained []*Behaviour
		for i := range o.Behaviour {
			if m := o.model(o.Behaviour[i].Model); o.Behaviour[i].Spec == spec && m != nil && m.Kind == "trained" {
				trained = append(trained, &o.Behaviour[i])
			}
		}
		if len(trained) == 0 {
			continue
		}
		fmt.Fprintf(w, "Per category on %s (trained networks: accuracy / kappa with the observers; humans: accuracy / human-human kappa)\n", spec)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprint(tw, "category")
		for _, b := range trained {
			fmt.Fprintf(tw, "\t%s", short(b.Model))
		}
		fmt.Fprintln(tw, "\thumans")
		for k, c := range trained[0].PerCategory {
			fmt.Fprint(tw, c.Category)
			for _, b := range trained {
				fmt.Fprintf(tw, "\t%.2f / %s", b.PerCategory[k].Model, fmtKappa(b.PerCategory[k].Kappa))
			}
			fmt.Fprintf(tw, "\t%.2f / %s\n", c.Humans, fmtKappa(c.HumanKappa))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func fmtKappa(k float64) string {
	if math.IsNaN(k) {
		return "-"
	}
	return fmt.Sprintf("%+.2f", k)
}

// perCategory tallies the model's answers and the observers' trials per category, with the
// model-observer and observer-observer error consistency on each category's trials; it also
// returns the observers' mean accuracy (NaN without observers).
func perCategory(bm *behaviour.Benchmark, answers map[string]string) ([]CategoryAccuracy, float64) {
	humanAcc := math.NaN()
	type acc struct{ n, right, hn, hright int }
	cats := map[string]*acc{}
	get := func(c string) *acc {
		if cats[c] == nil {
			cats[c] = &acc{}
		}
		return cats[c]
	}
	for _, p := range bm.Stimuli {
		a := get(bm.Category[p])
		a.n++
		if answers[p] == bm.Category[p] {
			a.right++
		}
	}
	var hsum float64
	for _, s := range bm.Subjects {
		right := 0
		for p, ok := range s.Correct {
			a := get(bm.Category[p])
			a.hn++
			if ok {
				a.hright++
				right++
			}
		}
		if len(s.Correct) > 0 {
			hsum += float64(right) / float64(len(s.Correct))
		}
	}
	if len(bm.Subjects) > 0 {
		humanAcc = hsum / float64(len(bm.Subjects))
	}
	var names []string
	var per []CategoryAccuracy
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		a := cats[c]
		ca := CategoryAccuracy{Category: c, Images: a.n, HumanTrials: a.hn, Model: math.NaN(), Humans: math.NaN()}
		if a.n > 0 {
			ca.Model = float64(a.right) / float64(a.n)
		}
		if a.hn > 0 {
			ca.Humans = float64(a.hright) / float64(a.hn)
		}
		ca.Kappa, ca.HumanKappa = categoryKappas(bm, answers, c)
		per = append(per, ca)
	}
	return per, humanAcc
}

// categoryKappas is the mean error consistency on category cat's trials: of the model with
// each observer, and of each pair of observers on the trials both saw.
// Kappas that are undefined (both parties always right, or always wrong) are left out of the
// means, as behaviour does over whole experiments.
func categoryKappas(bm *behaviour.Benchmark, answers map[string]string, cat string) (model, human float64) {
	var mk, hk []float64
	keys := func(s behaviour.Subject) []string {
		var out []string
		for p := range s.Correct {
			if bm.Category[p] == cat {
				out = append(out, p)
			}
		}
		sort.Strings(out)
		return out
	}
	for i, s := range bm.Subjects {
		var m, h []bool
		for _, p := range keys(s) {
			m = append(m, answers[p] == cat)
			h = append(h, s.Correct[p])
		}
		if a, err := behaviour.ErrorConsistency(m, h); err == nil && !math.IsNaN(a.Kappa) {
			mk = append(mk, a.Kappa)
		}
		for _, t := range bm.Subjects[i+1:] {
			var x, y []bool
			for _, p := range keys(s) {
				if v, ok := t.Correct[p]; ok {
					x = append(x, s.Correct[p])
					y = append(y, v)
				}
			}
			if a, err := behaviour.ErrorConsistency(x, y); err == nil && !math.IsNaN(a.Kappa) {
				hk = append(hk, a.Kappa)
			}
		}
	}
	mean := func(v []float64) float64 {
		if len(v) == 0 {
			return math.NaN()
		}
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	return mean(mk), mean(hk)
}
