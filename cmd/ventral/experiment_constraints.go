package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/constraints"
	"github.com/ventral-lab/ventral/models"
)

func init() {
	def := constraints.Defaults()
	cfg := def
	var variants, out, also string
	cmd := &cobra.Command{
		Use:   "constraints",
		Short: "Train a model with and without biological constraints (unshared, dale, avgpool, random) and score each on the IT benchmarks",
		Long: "Applies each switch of models.Constrain to --model (unshared: locally connected local2d layers in place\n" +
			"of convolutions; dale: non-negative excitatory weights plus an inhibitory population that subtracts,\n" +
			"after Cornford et al. 2021; avgpool: average in place of max pooling; random: untrained weights),\n" +
			"trains every variant with the same data, epochs, optimizer and seed (random is not trained), and scores\n" +
			"it on " + constraints.MonkeyIT + " and " + constraints.HumanIT + ". Prints a table (variant,\n" +
			"parameters, test accuracy, monkey IT and normalised human IT scores of the best layer) and writes\n" +
			"constraints.csv and each variant's spec file to --out. Variants combine switches with '+'\n" +
			"(dale+avgpool). --also trains other architectures with the same recipe (the depth question:\n" +
			"--also resnet10-cifar-w16,resnet18-cifar-w16,resnet34-cifar-w16, ResNets of growing depth at one\n" +
			"width). Every variant is tested against the unconstrained model (paired bootstrap over stimuli).\n" +
			"Each variant trains in its own run folder under --out, and a rerun with the same settings resumes\n" +
			"or reuses them. The defaults fit a few minutes on two CPU cores; scale up with --train, --epochs.\n" +
			"The benchmarks' data are found with $VENTRAL_MIRROR or the cache.",
		Example: "  ventral experiment constraints --out runs/constraints\n" +
			"  ventral experiment constraints --model resnet18-cifar --variants none,dale --train 20000 --epochs 10 --out runs/c-resnet\n" +
			"  ventral experiment constraints --variants none --also resnet10-cifar-w16,resnet18-cifar-w16,resnet34-cifar-w16 \\\n" +
			"      --train 25000 --epochs 4 --batch 128 --optimizer sgd --lr 0.05 --cosine --weight-decay 5e-4 --flip --crop 4 --out runs/depth",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			cfg.Variants, cfg.Also = splitList(strings.ToLower(variants)), splitList(also)
			for _, v := range cfg.Variants {
				if _, err := models.ParseConstraints(strings.ReplaceAll(v, "+", ",")); err != nil {
					return fmt.Errorf("--variants: %w", err)
				}
			}
			if len(cfg.Variants) == 0 && len(cfg.Also) == 0 {
				return fmt.Errorf("--variants and --also are empty")
			}
			cfg.Out = out
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			cfg.Log = w
			rows, err := constraints.Run(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(w)
			if err := constraints.WriteTable(w, cfg, rows); err != nil {
				return err
			}
			csvPath := filepath.Join(out, "constraints.csv")
			if err := constraints.WriteCSV(csvPath, rows); err != nil {
				return err
			}
			base, err := models.Resolve(cfg.Model)
			if err != nil {
				return err
			}
			for _, v := range cfg.Variants {
				c, _ := models.ParseConstraints(strings.ReplaceAll(v, "+", ","))
				c.InhibitoryFraction = cfg.InhibitoryFraction
				g, err := models.Constrain(base, c)
				if err != nil {
					return err
				}
				if err := g.SaveSpec(filepath.Join(out, strings.ReplaceAll(g.Name, "+", "_")+".yaml")); err != nil {
					return err
				}
			}
			fmt.Fprintf(w, "wrote %s and the variants' spec files in %s\n", csvPath, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder for constraints.csv and the variants' specs")
	f.StringVar(&cfg.Model, "model", def.Model, "model name or spec file (any convolutional model taking --data images)")
	f.StringVar(&cfg.Data, "data", def.Data, "training data: cifar10 or mnist")
	f.StringVar(&variants, "variants", strings.Join(def.Variants, ","), "variants, comma-separated; each none or switches joined by '+' from: "+strings.Join(models.ConstraintNames, ", "))
	f.Float64Var(&cfg.InhibitoryFraction, "inhibitory", 0, "dale: inhibitory channels per excitatory channel (0: 0.1)")
	f.IntVar(&cfg.TrainN, "train", def.TrainN, "training images (a class-balanced subset; 0: all)")
	f.IntVar(&cfg.TestN, "test", def.TestN, "test images (0: all)")
	f.IntVar(&cfg.Epochs, "epochs", def.Epochs, "training epochs")
	f.IntVar(&cfg.Batch, "batch", def.Batch, "batch size")
	f.StringVar(&also, "also", "", "other architectures to train and score with the same recipe, comma-separated (zoo names or spec files)")
	f.StringVar(&cfg.Optimizer, "optimizer", "adam", "adam, or sgd (Nesterov momentum 0.9)")
	f.Float64Var(&cfg.LR, "lr", def.LR, "learning rate")
	f.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "L2 weight decay on weights")
	f.BoolVar(&cfg.Cosine, "cosine", false, "cosine learning-rate schedule (default: constant)")
	f.IntVar(&cfg.Warmup, "warmup", 0, "linear learning-rate warm-up steps (SGD on cifar-cnn stalls without some)")
	f.BoolVar(&cfg.Flip, "flip", false, "augment: random horizontal flips")
	f.IntVar(&cfg.Crop, "crop", 0, "augment: random crops after padding by this many pixels")
	f.IntVar(&cfg.Bootstrap, "bootstrap", def.Bootstrap, "benchmark bootstrap samples (-1: none)")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the weights, batch order, stimulus split and bootstrap")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
