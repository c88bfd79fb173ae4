package hierarchy

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/nn"
)

// DefaultBehaviour is the behavioural benchmark of the ImageNet networks: Geirhos et al.'s
// edge images (shape only) in the 16 ImageNet categories, with the 10 human observers.
const DefaultBehaviour = "geirhos-edges-imagenet16"

// Behaviour is one ImageNet classifier's trial-level comparison with the human observers.
type Behaviour struct {
	Model    string
	Stimuli  int
	Accuracy float64
	// Kappa and CObs: error consistency and observed consistency with the humans (mean over
	// observers); HumanKappa and HumanCObs the same between pairs of humans (the ceiling).
	Kappa, CObs, HumanKappa, HumanCObs float64
	HumanAccuracy                      float64 // mean over observers
	// PerCategory: the model's and the humans' accuracy per category (shape-only images).
	PerCategory []CategoryAccuracy
}

// CategoryAccuracy is accuracy on one category's images.
type CategoryAccuracy struct {
	Category      string
	Images        int
	Model, Humans float64
	HumanTrials   int
}

// behaviourOf runs the behavioural benchmark on g (nil, nil when g is not an ImageNet
// classifier).
func behaviourOf(bm *behaviour.Benchmark, name string, g *nn.Graph) (*Behaviour, error) {
	if !behaviour.IsImageNetClassifier(g) {
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
	out := &Behaviour{Model: name, Stimuli: r.Stimuli, Accuracy: r.ModelAcc, Kappa: r.MeanModel.Kappa, CObs: r.MeanModel.CObs,
		HumanKappa: r.MeanHuman.Kappa, HumanCObs: r.MeanHuman.CObs, HumanAccuracy: math.NaN()}
	out.PerCategory, out.HumanAccuracy = perCategory(bm, r.Answers)
	return out, nil
}

func (o *Outcome) behaviourCSVs(p func(string) string, add func(string, error) error) error {
	if len(o.Behaviour) == 0 {
		return nil
	}
	var rows, cats [][]string
	for _, b := range o.Behaviour {
		rows = append(rows, []string{b.Model, strconv.Itoa(b.Stimuli), f6(b.Accuracy), f6(b.Kappa), f6(b.CObs), f6(b.HumanAccuracy), f6(b.HumanKappa), f6(b.HumanCObs)})
		for _, c := range b.PerCategory {
			cats = append(cats, []string{b.Model, c.Category, strconv.Itoa(c.Images), f6(c.Model), strconv.Itoa(c.HumanTrials), f6(c.Humans)})
		}
	}
	if err := add("behaviour.csv", writeCSV(p("behaviour.csv"), []string{"model", "stimuli", "accuracy", "error_consistency_kappa", "observed_consistency",
		"human_accuracy", "human_human_kappa", "human_human_observed_consistency"}, rows)); err != nil {
		return err
	}
	return add("behaviour_categories.csv", writeCSV(p("behaviour_categories.csv"), []string{"model", "category", "images", "model_accuracy", "human_trials", "human_accuracy"}, cats))
}

func (o *Outcome) writeBehaviour(w io.Writer) error {
	if len(o.Behaviour) == 0 {
		if o.BehaviourNote != "" {
			fmt.Fprintf(w, "\nBehaviour: %s\n", o.BehaviourNote)
		}
		return nil
	}
	b0 := o.Behaviour[0]
	fmt.Fprintf(w, "\nBehaviour on %s (%d shape-only edge images, 16 categories): accuracy and error consistency (kappa) with the human observers; humans: mean accuracy %.3f, human-human kappa %.3f\n",
		o.Config.Behaviour, b0.Stimuli, b0.HumanAccuracy, b0.HumanKappa)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\taccuracy\tkappa\tobserved consistency")
	for _, b := range o.Behaviour {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\n", b.Model, b.Accuracy, b.Kappa, b.CObs)
	}
	tw.Flush()
	fmt.Fprintln(w, "Per category (trained networks; humans in the last column)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	var trained []*Behaviour
	for i := range o.Behaviour {
		if m := o.model(o.Behaviour[i].Model); m != nil && m.Kind == "trained" {
			trained = append(trained, &o.Behaviour[i])
		}
	}
	fmt.Fprint(tw, "category")
	for _, b := range trained {
		fmt.Fprintf(tw, "\t%s", short(b.Model))
	}
	fmt.Fprintln(tw, "\thumans")
	for k, c := range b0.PerCategory {
		fmt.Fprint(tw, c.Category)
		for _, b := range trained {
			fmt.Fprintf(tw, "\t%.2f", b.PerCategory[k].Model)
		}
		fmt.Fprintf(tw, "\t%.2f\n", c.Humans)
	}
	return tw.Flush()
}

// perCategory tallies the model's answers and the observers' trials per category; it also
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
		per = append(per, ca)
	}
	return per, humanAcc
}
