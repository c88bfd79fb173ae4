package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/tensor"
)

// behaviourModel loads --model: a training output folder or .safetensors checkpoint, else a
// registered name or spec file, built (untrained) with seed.
func behaviourModel(spec string, seed uint64) (*behaviour.Classifier, error) {
	g, err := builtModel(spec, seed)
	if err != nil {
		return nil, err
	}
	return behaviour.NewClassifier(g)
}

// behaviourData loads a labelled split and keeps a seeded random subset of limit images
// (limit <= 0: all), in index order.
func behaviourData(name, split string, limit int, seed uint64) (*datasets.Dataset, error) {
	ds, err := datasets.Load(name, split)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit >= ds.N {
		return ds, nil
	}
	idx := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(ds.N)[:limit]
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && idx[j] < idx[j-1]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	sub := &datasets.Dataset{Name: fmt.Sprintf("%s (%d random images, seed %d)", ds.Name, limit, seed),
		Classes: ds.Classes, N: limit, C: ds.C, H: ds.H, W: ds.W}
	for _, i := range idx {
		sub.X = append(sub.X, ds.Image(i)...)
		sub.Labels = append(sub.Labels, ds.Labels[i])
	}
	return sub, nil
}

func parseLevels(s string) ([]float64, error) { return parseFloats("levels", s) }

func init() {
	root := &cobra.Command{
		Use:   "behaviour",
		Short: "Compare a model's behaviour with humans: distortion curves, error consistency, adversarial robustness",
	}
	var (
		model, data, split, out string
		seed                    uint64
		threads                 int
	)
	common := func(c *cobra.Command) {
		f := c.Flags()
		f.StringVar(&model, "model", "", "model: "+modelHelp())
		f.StringVar(&out, "out", "", "output folder for CSV files and plots (created)")
		f.Uint64Var(&seed, "seed", 1, "seed (image subset, noise, untrained weights)")
		f.IntVar(&threads, "threads", 0, "GEMM threads (0: all cores)")
	}
	prepare := func() error {
		if threads > 0 {
			tensor.SetThreads(threads)
		}
		if out == "" {
			return fmt.Errorf("--out is required")
		}
		return os.MkdirAll(out, 0o755)
	}
	dataFlags := func(c *cobra.Command, limit *int, def int) {
		c.Flags().StringVar(&data, "data", "cifar10", "labelled image set: cifar10 or mnist")
		c.Flags().StringVar(&split, "split", "test", "split: test or train")
		c.Flags().IntVar(limit, "limit", def, "random subset of N images (0: all)")
	}

	var (
		distNames, levels string
		grey, noHuman     bool
		dLimit            int
	)
	dist := &cobra.Command{
		Use:   "distortions",
		Short: "Accuracy under image distortions (psychometric curves) beside model-vs-human's human curves",
		Long: "Distortions: " + strings.Join(behaviour.Distortions(), ", ") + ".\n" +
			"Writes curves.csv, curve_<distortion>.png/.svg and confusion_<distortion>_<level>.csv into --out.\n" +
			"Human curves come from model-vs-human-raw (found with $VENTRAL_MIRROR or the cache); their images differ from the model's.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := prepare(); err != nil {
				return err
			}
			names := behaviour.Distortions()
			if distNames != "" && distNames != "all" {
				names = strings.Split(distNames, ",")
			}
			lv, err := parseLevels(levels)
			if err != nil {
				return err
			}
			if lv != nil && len(names) != 1 {
				return fmt.Errorf("--levels needs exactly one --distortion")
			}
			for _, n := range names {
				if _, err := behaviour.Lookup(n); err != nil {
					return err
				}
			}
			c, err := behaviourModel(model, seed)
			if err != nil {
				return err
			}
			ds, err := behaviourData(data, split, dLimit, seed)
			if err != nil {
				return err
			}
			if behaviour.IsImageNetClassifier(c.G) && len(ds.Classes) > 0 {
				// An ImageNet network answers in the data set's classes through the 16-category
				// mapping; images of classes without a counterpart are left out.
				kept, err := behaviour.ImageNet16Subset(ds)
				if err != nil {
					return err
				}
				if err := c.UseImageNet16(kept.Classes, behaviour.DataSetToImageNet16); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ImageNet classifier: answers among %d of %s's classes (%s) through the 16-category mapping; %d of %d images kept\n",
					len(kept.Classes), ds.Name, strings.Join(kept.Classes, ", "), kept.N, ds.N)
				ds = kept
			}
			w := cmd.OutOrStdout()
			var curves []*behaviour.Curve
			humans := map[string][]behaviour.LevelAccuracy{}
			for _, n := range names {
				cv, err := behaviour.DistortionCurve(c, ds, behaviour.CurveConfig{Distortion: n, Levels: lv, Seed: seed, Grey: grey})
				if err != nil {
					return err
				}
				curves = append(curves, cv)
				var human []behaviour.LevelAccuracy
				if !noHuman {
					d, _ := behaviour.Lookup(n)
					if dir, err := behaviour.HumanDataDir(n); err == nil {
						if human, _, err = behaviour.HumanCurve(dir, d.HumanLevel); err != nil {
							return err
						}
						humans[n] = human
					} else if d.Human != "" {
						fmt.Fprintf(cmd.ErrOrStderr(), "no human data for %s: %v\n", n, err)
					}
				}
				if err := behaviour.PlotCurve(behaviour.CurvePath(out, cv), cv, human); err != nil {
					return err
				}
				for j, p := range cv.Points {
					name := fmt.Sprintf("confusion_%s_%s.csv", n, strconv.FormatFloat(p.Level, 'g', -1, 64))
					if err := behaviour.WriteConfusionCSV(filepath.Join(out, name), cv.Confusion[j], cv.Classes); err != nil {
						return err
					}
				}
				if err := behaviour.WriteCurveTable(w, cv, human); err != nil {
					return err
				}
			}
			if len(humans) > 0 {
				fmt.Fprintln(w, "note:", behaviour.HumanCaveat)
			}
			return behaviour.WriteCurvesCSV(filepath.Join(out, "curves.csv"), curves, humans)
		},
	}
	common(dist)
	dataFlags(dist, &dLimit, 1000)
	dist.Flags().StringVar(&distNames, "distortion", "all", "comma-separated distortions, or all")
	dist.Flags().StringVar(&levels, "levels", "", "comma-separated levels (default: the distortion's, model-vs-human's where it has them)")
	dist.Flags().BoolVar(&grey, "grey", false, "convert images to greyscale before distorting (as Geirhos et al. 2018)")
	dist.Flags().BoolVar(&noHuman, "no-human", false, "do not look for human data")

	var specName string
	cons := &cobra.Command{
		Use:   "consistency",
		Short: "Trial-level accuracy difference, observed and error consistency (kappa) with human subjects",
		Long: "Runs a behavioural spec (built in: " + strings.Join(behaviour.BuiltinSpecs(), ", ") + "; or a YAML file)\n" +
			"and writes consistency.csv and answers.csv into --out.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := prepare(); err != nil {
				return err
			}
			c, err := behaviourModel(model, seed)
			if err != nil {
				return err
			}
			if specName == "" {
				specName = "geirhos-edges-cifar10"
				if behaviour.IsImageNetClassifier(c.G) {
					specName = "geirhos-edges-imagenet16"
				}
			}
			s, err := behaviour.LoadSpec(specName)
			if err != nil {
				return err
			}
			b, err := s.Load()
			if err != nil {
				return err
			}
			r, err := b.Consistency(c)
			if err != nil {
				return err
			}
			if err := r.WriteCSV(filepath.Join(out, "consistency.csv")); err != nil {
				return err
			}
			rows := [][]string{{"stimulus", "category", "model_response"}}
			for _, p := range b.Stimuli {
				rows = append(rows, []string{p, b.Category[p], r.Answers[p]})
			}
			if err := writeRows(filepath.Join(out, "answers.csv"), rows); err != nil {
				return err
			}
			return r.WriteTable(cmd.OutOrStdout())
		},
	}
	common(cons)
	cons.Flags().StringVar(&specName, "spec", "", "behavioural spec: built-in name or YAML file (default: geirhos-edges-imagenet16 for an ImageNet classifier, else geirhos-edges-cifar10)")

	var (
		method        string
		maxEps        float64
		steps, bisect int
		aLimit        int
	)
	adv := &cobra.Command{
		Use:   "adversarial",
		Short: "Smallest L-infinity perturbation (FGSM or PGD, bisection on eps) that flips the model's decision",
		Long:  "Writes adversarial_<method>.csv (one row per attacked image) into --out; norms are in [0,1] pixel units.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := prepare(); err != nil {
				return err
			}
			methods := []string{method}
			if method == "both" {
				methods = []string{"fgsm", "pgd"}
			}
			c, err := behaviourModel(model, seed)
			if err != nil {
				return err
			}
			ds, err := behaviourData(data, split, aLimit, seed)
			if err != nil {
				return err
			}
			for _, m := range methods {
				r, err := behaviour.MinimalAttack(c, ds, behaviour.AttackConfig{Method: m, MaxEps: maxEps, Steps: steps, Bisect: bisect})
				if err != nil {
					return err
				}
				if err := r.WriteCSV(filepath.Join(out, "adversarial_"+m+".csv")); err != nil {
					return err
				}
				if err := r.WriteTable(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	common(adv)
	dataFlags(adv, &aLimit, 200)
	adv.Flags().StringVar(&method, "method", "fgsm", "fgsm, pgd or both")
	adv.Flags().Float64Var(&maxEps, "max-eps", 0.25, "largest L-infinity radius tried (pixels in [0,1])")
	adv.Flags().IntVar(&steps, "steps", 10, "PGD steps")
	adv.Flags().IntVar(&bisect, "bisect", 10, "bisection steps on eps")

	root.AddCommand(dist, cons, adv)
	rootCmd.AddCommand(root)
}

func writeRows(path string, rows [][]string) error {
	var sb strings.Builder
	for _, r := range rows {
		for i, f := range r {
			if i > 0 {
				sb.WriteByte(',')
			}
			if strings.ContainsAny(f, ",\"\n") {
				f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
			}
			sb.WriteString(f)
		}
		sb.WriteByte('\n')
	}
	return atomicfile.Write(path, []byte(sb.String()))
}
