package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/learningrules"
	"github.com/ventral-lab/ventral/nn"
)

func init() {
	def := learningrules.Defaults()
	cfg := def
	var out, ruleList, dataList, seeds, benches, mnistModel, cifarModel string
	cmd := &cobra.Command{
		Use:   "learning-rules",
		Short: "MNIST and CIFAR-10 accuracy of bp, fa, dfa, sign and Hebbian+readout on the same architectures, and brain scores of the CIFAR networks",
		Long: "Trains lenet5 on MNIST and cifar-cnn on CIFAR-10 with backpropagation (bp), feedback alignment (fa),\n" +
			"direct feedback alignment (dfa), sign symmetry (sign) and as a Hebbian network (hebbian: the convolutions\n" +
			"trained layer by layer without labels by a soft winner-take-all rule, then a linear readout on their\n" +
			"frozen features), each for every --seeds, with one shortened recipe (Adam, constant rate, no\n" +
			"augmentation). Scores the CIFAR-10 networks on the IT, V4 and V1 benchmarks and reports the accuracy\n" +
			"gap to bp (mean ± sd over seeds) and whether brain scores follow accuracy (Spearman over networks).\n" +
			"Writes " + learningrules.CSVFile + ", " + learningrules.FigureFile + " and " + learningrules.SummaryFile + " to --out. The defaults\n" +
			"take about 20-30 minutes on two free cores. The data come through the dataset registry ($VENTRAL_MIRROR).",
		Example: "  ventral experiment learning-rules --out runs/rules\n" +
			"  ventral experiment learning-rules --train-size 3000 --epochs 1 --seeds 1,2,3 --out runs/rules-small",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			var err error
			cfg.Rules, cfg.Datasets, cfg.Benchmarks = splitList(ruleList), splitList(dataList), splitList(benches)
			if cfg.Seeds, err = parseSeeds(seeds); err != nil {
				return fmt.Errorf("--seeds: %w", err)
			}
			cfg.Models = map[string]string{"mnist": mnistModel, "cifar10": cifarModel}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			cfg.CacheDir = filepath.Join(out, "activations")
			w := cmd.OutOrStdout()
			cfg.Log = w
			start, cpu0 := time.Now(), learningrules.CPUSeconds()
			rows, err := learningrules.Run(cfg)
			if err != nil {
				return err
			}
			s := learningrules.Summarize(cfg, rows)
			var sum strings.Builder
			if err := learningrules.WriteSummary(&sum, cfg, s); err != nil {
				return err
			}
			fmt.Fprintf(&sum, "Time: %.0f s wall, %.0f s CPU (user+sys)\n", time.Since(start).Seconds(), learningrules.CPUSeconds()-cpu0)
			fmt.Fprint(w, "\n"+sum.String())
			if err := nn.WriteFileAtomic(filepath.Join(out, learningrules.SummaryFile), []byte(sum.String())); err != nil {
				return err
			}
			if err := learningrules.WriteCSV(filepath.Join(out, learningrules.CSVFile), cfg, rows); err != nil {
				return err
			}
			if err := learningrules.WriteFigure(filepath.Join(out, learningrules.FigureFile), cfg, rows, s); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s, %s and %s in %s\n", learningrules.CSVFile, learningrules.FigureFile, learningrules.SummaryFile, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder")
	f.StringVar(&ruleList, "rules", strings.Join(def.Rules, ","), "rules, comma-separated: "+strings.Join(learningrules.AllRules, ", "))
	f.StringVar(&dataList, "data", strings.Join(def.Datasets, ","), "data sets, comma-separated: mnist, cifar10")
	f.StringVar(&mnistModel, "mnist-model", "lenet5", "architecture trained on MNIST")
	f.StringVar(&cifarModel, "cifar-model", "cifar-cnn", "architecture trained on CIFAR-10 (and scored)")
	f.IntVar(&cfg.TrainN, "train-size", def.TrainN, "training images per data set (a class-balanced subset; 0: all)")
	f.IntVar(&cfg.TestN, "test-size", def.TestN, "test images (0: all)")
	f.IntVar(&cfg.Epochs, "epochs", def.Epochs, "supervised epochs (bp, fa, dfa, sign; the Hebbian network's readout)")
	f.IntVar(&cfg.HebbEpochs, "hebb-epochs", def.HebbEpochs, "Hebbian epochs per convolutional layer")
	f.StringVar(&cfg.HebbRule, "hebb-rule", "wta", "Hebbian rule: wta (soft winner-take-all) or oja (Sanger's generalised Hebbian algorithm)")
	f.IntVar(&cfg.Batch, "batch", def.Batch, "batch size")
	f.Float64Var(&cfg.LR, "lr", def.LR, "Adam learning rate")
	f.StringVar(&seeds, "seeds", "1,2,3", "seeds, comma-separated")
	f.StringVar(&benches, "benchmarks", strings.Join(def.Benchmarks, ","), "benchmarks the CIFAR-10 networks are scored on")
	f.IntVar(&cfg.Bootstrap, "bootstrap", def.Bootstrap, "benchmark bootstrap samples (-1: none)")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
