package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/quickstart"
)

func init() {
	var cfg quickstart.Config
	var benches, imported string
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Train a small CNN on CIFAR-10, score every layer against monkey and human IT beside an untrained copy, write a report",
		Long: `quickstart is the first thing to run: it trains a small CNN on CIFAR-10 for a few minutes,
scores every layer on the 92-image monkey IT and human IT RSA benchmarks beside an untrained copy
of the same network, prints the table, records the results (see 'ventral leaderboard') and
writes DIR/report.html. An ImageNet-trained network imported from ONNX (and its random-weight
control) is scored on the same benchmarks and shown beside the CIFAR model. The same command
twice gives the same numbers.`,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := benchmarks.CheckBootstrap(cfg.Bootstrap); err != nil {
				return err
			}
			if benches != "" {
				cfg.Benchmarks = strings.Split(benches, ",")
			}
			if imported != "" {
				cfg.Imported = strings.Split(imported, ",")
			}
			cfg.Log = os.Stderr
			_, err := quickstart.Run(cfg, os.Stdout)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "ventral-quickstart", "output folder")
	f.StringVar(&cfg.Model, "model", "cifar-cnn", "model to train")
	f.IntVar(&cfg.Epochs, "epochs", 3, "training epochs")
	f.IntVar(&cfg.Limit, "limit", 20000, "training images (a class-balanced subset of the 50,000)")
	f.IntVar(&cfg.Batch, "batch", 64, "batch size")
	f.Float64Var(&cfg.LR, "lr", 0.02, "base learning rate (SGD, Nesterov momentum, cosine schedule)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of weights, batch order, augmentation, dropout and bootstrap")
	f.IntVar(&cfg.Threads, "threads", 0, "threads (0: all cores)")
	f.IntVar(&cfg.Bootstrap, "bootstrap", 1000, "bootstrap samples per benchmark")
	f.StringVar(&benches, "benchmarks", "", "comma-separated benchmarks (default: both 92-image IT benchmarks)")
	f.StringVar(&imported, "imported", "", "comma-separated networks trained elsewhere scored beside it, each with its random control (default: mobilenetv2-imagenet-onnx; none: skip)")
	rootCmd.AddCommand(cmd)
}
