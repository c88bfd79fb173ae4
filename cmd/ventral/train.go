package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/pretrain"
	"github.com/ventral-lab/ventral/rules"
	"github.com/ventral-lab/ventral/train"
)

func init() {
	var (
		model, data, out, optName, schedule string
		epochs, batch, threads, limit       int
		testLimit, warmup, crop             int
		seed                                uint64
		lr, momentum, wd, clip              float64
		nesterov, resume, flip, overwrite   bool
		newHead                             bool
		freezeUntil, pretrainMethod, rule   string
		pretrainEpochs                      int
		pretrainNoise                       float64
		pretrainDense                       bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model on mnist or cifar10, writing metrics, curves and checkpoints to --out",
		Example: "  ventral train --model lenet5 --data mnist --epochs 5 --batch 64 --seed 1 --out runs/lenet5\n" +
			"  ventral train --model lenet.yaml --data mnist --optimizer adamw --lr 1e-3 --schedule cosine --out runs/lenet\n" +
			"  ventral train --out runs/lenet --data mnist --resume --epochs 20\n" +
			"  ventral train --model lenet5 --data mnist --rule fa --optimizer adam --lr 1e-3 --out runs/lenet-fa\n" +
			"  ventral train --model mobilenetv2-imagenet-onnx --data cifar10 --new-head --freeze-until NODE --epochs 1 --out runs/ft",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			if !slices.Contains(rules.Names, rule) {
				return fmt.Errorf("--rule %q: expected one of %s", rule, strings.Join(rules.Names, ", "))
			}
			if resume {
				if err := resumeConflicts(cmd.Flags()); err != nil {
					return err
				}
				if !cmd.Flags().Changed("data") {
					saved, err := train.SavedData(out)
					if err != nil {
						return fmt.Errorf("--resume: %w", err)
					}
					data = saved
				}
			} else if err := applyRecipe(cmd.Flags(), model, cmd.OutOrStdout()); err != nil {
				return err
			}
			trainSet, testSet, err := loadData(data, limit, testLimit)
			if err != nil {
				return err
			}
			cfg := train.Config{Train: trainSet, Test: testSet, DataName: data, Threads: threads, Log: cmd.OutOrStdout()}
			if resume {
				if cmd.Flags().Changed("epochs") {
					cfg.Epochs = epochs
				}
				_, err := train.Resume(out, cfg)
				return err
			}
			if model == "" {
				return fmt.Errorf("--model is required (a model name or a spec file)")
			}
			g, err := train.LoadModel(model)
			if err != nil {
				return err
			}
			if !g.Built() {
				if newHead || freezeUntil != "" {
					return fmt.Errorf("--new-head and --freeze-until fine-tune trained weights; %s has none (give a run folder, a checkpoint or an imported network)", model)
				}
				if err := g.Build(seed); err != nil {
					return err
				}
			} else if newHead || freezeUntil != "" || !sameInput(g.InputShape, trainSet) {
				ft := train.FineTune{FreezeUntil: freezeUntil, Seed: seed, Input: []int{trainSet.C, trainSet.H, trainSet.W}}
				if newHead {
					ft.Classes = trainSet.Classes
				}
				if g, err = train.PrepareFineTune(g, ft); err != nil {
					return err
				}
			}
			sched, err := optim.ParseSchedule(schedule)
			if err != nil {
				return err
			}
			if warmup < 0 {
				return fmt.Errorf("--warmup %d: expected a step count, 0 or more", warmup)
			}
			if warmup > 0 {
				sched.WarmupSteps = warmup
			}
			cfg.Model, cfg.Epochs, cfg.Batch, cfg.Seed, cfg.Out, cfg.Schedule = g, epochs, batch, seed, out, sched
			cfg.Optim = optim.Config{Name: optName, LR: lr, Momentum: momentum, Nesterov: nesterov, WeightDecay: wd, ClipNorm: clip}
			cfg.Augment = train.Augment{Flip: flip, Crop: crop}
			cfg.Overwrite = overwrite
			if pretrainMethod == "" {
				for _, name := range []string{"pretrain-epochs", "pretrain-noise", "pretrain-dense"} {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s applies with --pretrain autoencoder only", name)
					}
				}
			}
			cfg.Pretrain, err = pretrain.HookFor(pretrainMethod, pretrain.Config{Epochs: pretrainEpochs, Batch: batch, Noise: pretrainNoise, Clean: pretrainNoise == 0, Seed: seed, ConvOnly: !pretrainDense})
			if err != nil {
				return err
			}
			cfg.Rule = rule
			_, err = train.Run(cfg)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model: a zoo name ("+strings.Join(models.Names(), ", ")+"; lenet5 and cifar-cnn train with their README recipe unless flags override it), a spec file, a run folder or checkpoint (fine-tuning), an .onnx/.tflite/model.json file or an imported network's name")
	f.StringVar(&data, "data", "mnist", "data set: mnist or cifar10 (with --resume: default the run's)")
	f.IntVar(&epochs, "epochs", 10, "epochs (with --resume: a new total; default the saved one); zoo models with a recipe default to its own")
	f.IntVar(&batch, "batch", 64, "batch size")
	f.Uint64Var(&seed, "seed", 1, "seed of the weights, batch order, augmentation and dropout")
	f.StringVar(&out, "out", "", "output folder: metrics.csv, curves.png, model.safetensors, model.yaml")
	f.StringVar(&optName, "optimizer", "sgd", "sgd, adam or adamw")
	f.Float64Var(&lr, "lr", 0, "base learning rate (default 0.01 for sgd, 0.001 for adam/adamw)")
	f.Float64Var(&momentum, "momentum", 0.9, "SGD momentum")
	f.BoolVar(&nesterov, "nesterov", false, "Nesterov momentum (sgd)")
	f.Float64Var(&wd, "weight-decay", 0, "L2 (sgd, adam) or decoupled (adamw) weight decay, on weights only")
	f.Float64Var(&clip, "clip-norm", 0, "clip gradients to this global L2 norm (0: off)")
	f.StringVar(&schedule, "schedule", "constant", "learning-rate schedule: constant, step:EPOCHS[:GAMMA], cosine[:FLOOR] (each optionally ,warmup=STEPS)")
	f.IntVar(&warmup, "warmup", 0, "linear warm-up steps (overrides the schedule's)")
	f.IntVar(&threads, "threads", 0, "GEMM threads (0: all cores)")
	f.BoolVar(&resume, "resume", false, "continue the run checkpointed in --out (its model, seed and optimizer)")
	f.BoolVar(&flip, "flip", false, "augment: random horizontal flips")
	f.IntVar(&crop, "crop", 0, "augment: random crops after padding by this many pixels")
	f.IntVar(&limit, "limit", 0, "train on the first N images only (0: all)")
	f.IntVar(&testLimit, "test-limit", 0, "evaluate on the first N test images only (0: all)")
	f.BoolVar(&overwrite, "overwrite", false, "replace a checkpoint already in --out")
	f.BoolVar(&newHead, "new-head", false, "fine-tune: replace the model's classifier by a fresh one for the data set's classes")
	f.StringVar(&freezeUntil, "freeze-until", "", "fine-tune: leave the parameters of this layer and all before it unchanged")
	f.StringVar(&pretrainMethod, "pretrain", "", "before training: unsupervised layer-wise pretraining of every convolution (autoencoder: denoising autoencoders)")
	f.IntVar(&pretrainEpochs, "pretrain-epochs", 1, "pretraining: epochs per layer")
	f.Float64Var(&pretrainNoise, "pretrain-noise", 0.3, "pretraining: sd of the Gaussian input corruption, as a fraction of the layer input's sd (0: plain autoencoder)")
	f.StringVar(&rule, "rule", "bp", "learning rule: "+strings.Join(rules.Names, ", ")+" (backpropagation, feedback alignment, direct feedback alignment, sign symmetry; see package rules). fa and dfa start the output layer at zero and need a smaller learning rate than the bp recipes: --optimizer adam --lr 1e-3 --nesterov=false")
	f.BoolVar(&pretrainDense, "pretrain-dense", false, "pretraining: the dense layers too (default: the convolutions only; on cifar-cnn the dense autoencoder left fine-tuning at chance)")
	rootCmd.AddCommand(cmd)
}

// resumeKeeps lists the flags whose settings a resumed run takes from its checkpoint.
var resumeKeeps = []string{"model", "optimizer", "lr", "momentum", "nesterov", "weight-decay", "clip-norm", "schedule",
	"warmup", "batch", "seed", "flip", "crop", "new-head", "freeze-until", "overwrite", "pretrain", "pretrain-epochs", "pretrain-noise", "pretrain-dense", "rule"}

// resumeConflicts refuses flags that --resume would ignore: the run continues with the model,
// seed, batch size, optimizer, schedule and augmentation saved in its checkpoint.
func resumeConflicts(f *pflag.FlagSet) error {
	var given []string
	for _, name := range resumeKeeps {
		if f.Changed(name) {
			given = append(given, "--"+name)
		}
	}
	if len(given) == 0 {
		return nil
	}
	return fmt.Errorf("--resume keeps the run's model, seed, batch size, optimizer and learning rate, schedule, augmentation and "+
		"classifier as its checkpoint saved them; drop %s (with --resume only --epochs, a new total, and --data, --limit, "+
		"--test-limit and --threads apply)", strings.Join(given, ", "))
}

// applyRecipe gives the flags left unset the training recipe of a zoo model (models.RecipeOf)
// and prints which recipe and which overrides the run uses. Other models keep the flag defaults.
func applyRecipe(f *pflag.FlagSet, model string, w io.Writer) error {
	r, ok := models.RecipeOf(model)
	if !ok {
		return nil
	}
	var overridden []string
	vals := r.Flags()
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if f.Changed(name) {
			overridden = append(overridden, "--"+name)
			continue
		}
		if err := f.Set(name, vals[name]); err != nil {
			return fmt.Errorf("recipe of %s: --%s %s: %w", model, name, vals[name], err)
		}
	}
	fmt.Fprintf(w, "recipe of %s: %s", model, r)
	if len(overridden) > 0 {
		fmt.Fprintf(w, " (overridden by %s)", strings.Join(overridden, ", "))
	}
	fmt.Fprintln(w)
	return nil
}

// sameInput reports whether the model takes the data set's images as they are.
func sameInput(in []int, ds *datasets.Dataset) bool {
	return len(in) == 3 && in[0] == ds.C && in[1] == ds.H && in[2] == ds.W
}

// loadData loads the train and test splits, each cut to its limit when positive (the train
// split is skipped when trainLimit < 0).
func loadData(name string, trainLimit, testLimit int) (trainSet, testSet *datasets.Dataset, err error) {
	if trainLimit >= 0 {
		if trainSet, err = datasets.Load(name, "train"); err != nil {
			return nil, nil, err
		}
		trainSet = train.Subset(trainSet, trainLimit)
	}
	if testSet, err = datasets.Load(name, "test"); err != nil {
		return nil, nil, err
	}
	return trainSet, train.Subset(testSet, testLimit), nil
}
