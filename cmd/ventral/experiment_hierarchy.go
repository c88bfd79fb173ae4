package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/hierarchy"
)

func init() {
	def := hierarchy.Defaults()
	cfg := def
	var models, benches, out string
	cmd := &cobra.Command{
		Use:   "hierarchy",
		Short: "Score ImageNet networks, their random controls and older models on V1, V4 and IT: layer profiles, depth ordering, trained vs random, performance vs brain score",
		Long: "Scores every model on benchmarks of V1 (" + hierarchy.DefaultBenchmarks[0] + "), V4 (the cowley2023-v4 PLS\n" +
			"benchmarks) and IT (the kriegeskorte92 RSA benchmarks): the full layer profile on relative depth, the best\n" +
			"layer (chosen on held-out data) with its score and a bootstrap interval of its depth. Tests: each trained\n" +
			"network against its random: control (paired bootstrap on the held-out data, Holm); the best depth\n" +
			"V1 < V4 < IT within each trained network; Spearman's rho across models of published ImageNet top-1 and\n" +
			"brain score (permutation p); the best trained network against HMAX. Writes one CSV per table, a profile\n" +
			"figure per region (profile-REGION.png, a panel per benchmark), a performance-vs-score scatter and\n" +
			"summary.txt (which claims hold) to --out, with\n" +
			"activations cached in --out/activations and reused across benchmarks and reruns.\n" +
			"Default models: every imported ImageNet network beside its random: control, the most accurate --cifar run,\n" +
			"alexnet and cornet-z at random weights, hmax (S2 prototypes from CIFAR-10 training images), gabor-v1.\n" +
			"Every ImageNet classifier also runs --behaviour (default " + hierarchy.DefaultBehaviour + ": error consistency with the\n" +
			"10 human observers beside human-human consistency, accuracy and consistency per category on the shape-only\n" +
			"images), every CIFAR-10 classifier --cifar-behaviour (default " + hierarchy.DefaultCIFARBehaviour + ": the same on the 7\n" +
			"categories that are CIFAR-10 classes, with their own human-human ceiling).",
		Example: "  ventral experiment hierarchy --out runs/hierarchy\n" +
			"  ventral experiment hierarchy --models mobilenetv1-0.25-imagenet-tflite,random:mobilenetv1-0.25-imagenet-tflite,hmax --max-layers 6 --out runs/h-small",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			cfg.Models, cfg.Benchmarks = splitList(models), splitList(benches)
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			cfg.CacheDir = filepath.Join(out, "activations")
			w := cmd.OutOrStdout()
			cfg.Log = w
			if cfg.CIFAR == "" && len(cfg.Models) == 0 {
				fmt.Fprintln(w, "note: no --cifar run folder given; the CIFAR-trained network is skipped")
			}
			o, err := hierarchy.Run(cfg)
			if err != nil {
				return err
			}
			paths, err := o.WriteAll(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(w)
			if err := o.WriteSummary(w); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nwrote %s\n", strings.Join(paths, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder (tables, figures, summary.txt, activation cache)")
	f.StringVar(&models, "models", "", "models, comma-separated (any --model form, random:NAME for an untrained control; default: see above)")
	f.StringVar(&cfg.CIFAR, "cifar", "", "CIFAR-trained run folders, comma-separated, or a folder of them: the one with the best CIFAR-10 test accuracy (measured on 2,000 test images) joins the models")
	f.StringVar(&benches, "benchmarks", strings.Join(hierarchy.DefaultBenchmarks, ","), "benchmarks, comma-separated (built-in names or spec files; each counts for its region)")
	f.IntVar(&cfg.MaxLayers, "max-layers", def.MaxLayers, "score at most this many evenly spaced default layers per model (0: all)")
	f.IntVar(&cfg.Bootstrap, "bootstrap", def.Bootstrap, "bootstrap samples per benchmark")
	f.IntVar(&cfg.Perms, "perms", def.Perms, "random permutations of the rank-correlation test (above 8 models; up to 8 it is exact)")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of random weights, HMAX prototypes, stimulus split and bootstrap")
	f.StringVar(&cfg.Behaviour, "behaviour", def.Behaviour, "behavioural spec run on every ImageNet classifier (error consistency with humans, accuracy per category; none: skip)")
	f.StringVar(&cfg.CIFARBehaviour, "cifar-behaviour", def.CIFARBehaviour, "behavioural spec run on every CIFAR-10 classifier (none: skip)")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
