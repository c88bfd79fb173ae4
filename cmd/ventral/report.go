package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/experiments/hierarchy"
	"github.com/ventral-lab/ventral/modelreport"
	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	var (
		o                               modelreport.Options
		model, benches, dists, sections string
		experiment                      string
		threads                         int
	)
	cmd := &cobra.Command{
		Use:   "report --model DIR|NAME|SPEC",
		Short: "Write one HTML report of a model: training, accuracy, brain benchmarks, RDMs, receptive fields, features, behaviour",
		Long: `report writes OUT/report.html, one self-contained page, beside the PNG/SVG figures it shows:
training curves (from a training run folder's metrics.csv), test accuracy with per-class accuracy and
the confusion matrix, the layer-to-region profile of each brain benchmark with noise ceilings and
bootstrap intervals, the model's RDMs beside the monkey and human IT RDMs, receptive-field growth,
feature visualisations, psychometric curves beside human data, and error consistency with humans.
A section whose inputs are missing (no metrics.csv, no CIFAR-10 classes, data not found) says why.

--model takes a training run folder or .safetensors checkpoint (the report goes to DIR/report by
default), or a zoo name or spec file (random weights from --seed; report in ventral-report-NAME).
Sections: ` + strings.Join(modelreport.AllSections, ", ") + `.

--experiment DIR reports an experiment's output folder instead (ventral experiment hierarchy --out DIR):
the claims and their verdicts, the models, each region's profile figure and best layers, the tests,
the performance-vs-score scatter, behaviour and summary.txt, from the folder's files alone (no rescoring);
the page goes to DIR/report.html, or to --out with the figures copied beside it.`,
		Example: "  ventral report --model runs/cifar\n  ventral report --model cifar-cnn --quick --out /tmp/r\n  ventral report --experiment runs/hierarchy",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if experiment != "" {
				if model != "" {
					return fmt.Errorf("--experiment and --model exclude each other")
				}
				if !hierarchy.IsOutput(experiment) {
					return fmt.Errorf("--experiment %s: not an experiment output folder (ventral experiment hierarchy --out writes one)", experiment)
				}
				path, err := hierarchy.WriteReport(experiment, o.Out)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "report: %s\n", path)
				return nil
			}
			if model == "" {
				return fmt.Errorf("--model is required (a training run folder, a checkpoint, a zoo name or a spec file; or --experiment DIR)")
			}
			if err := benchmarks.CheckBootstrap(o.Bootstrap); err != nil {
				return err
			}
			if threads > 0 {
				tensor.SetThreads(threads)
			}
			o.Benchmarks, o.Distortions, o.Sections = splitList(benches), splitList(dists), splitList(sections)
			o.Log = c.ErrOrStderr()
			res, err := modelreport.Build(model, o)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			for _, s := range res.Sections {
				line := fmt.Sprintf("%-13s %-8s %6.1f s", s.Name, s.State, s.Seconds)
				if s.Note != "" {
					line += "  " + s.Note
				}
				fmt.Fprintln(w, line)
			}
			fmt.Fprintf(w, "report: %s (%.1f s)\n", res.Path, res.Seconds)
			return res.Failed()
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "training run folder, .safetensors checkpoint, zoo name or spec file")
	f.StringVar(&experiment, "experiment", "", "an experiment's output folder to report (ventral experiment hierarchy --out DIR) instead of a model")
	f.StringVar(&o.Out, "out", "", "report folder (default: DIR/report, or ventral-report-NAME; with --experiment, DIR itself)")
	f.BoolVar(&o.Quick, "quick", false, "smaller samples everywhere (a preview in seconds)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of untrained weights, subsets, bootstrap and noise")
	f.StringVar(&o.Data, "data", "", "labelled test set for accuracy and psychometric curves: cifar10 or mnist (default: the checkpoint's)")
	f.IntVar(&o.TestLimit, "test-limit", 0, "test images for accuracy (default 2000; quick 500)")
	f.IntVar(&o.Bootstrap, "bootstrap", 0, "bootstrap samples per benchmark (default 200; quick 50)")
	f.IntVar(&o.CurveLimit, "curve-limit", 0, "test images per distortion level (default 200; quick 100)")
	f.IntVar(&o.VisChannels, "vis-channels", 0, "channels visualised per layer (default 4; quick 2)")
	f.StringVar(&benches, "benchmarks", "", "comma-separated brain benchmarks (default: the 92-image monkey and human IT benchmarks)")
	f.StringVar(&dists, "distortions", "", "comma-separated distortions for psychometric curves (default: six; quick: contrast, uniform-noise)")
	f.StringVar(&sections, "sections", "", "comma-separated sections to build (default: all)")
	f.StringVar(&o.ConsistencySpec, "consistency", "", "behavioural spec for error consistency (default geirhos-edges-cifar10)")
	f.IntVar(&threads, "threads", 0, "threads (0: all cores)")
	rootCmd.AddCommand(cmd)
}
