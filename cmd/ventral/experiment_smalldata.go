package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/smalldata"
)

func init() {
	cfg := smalldata.Defaults()
	var sizes, seeds, conds, out string
	cmd := &cobra.Command{
		Use:   "small-data",
		Short: "CIFAR-10 accuracy against the number of labelled images: from scratch, autoencoder-pretrained, ImageNet MobileNet (head only, fully fine-tuned)",
		Long: "Trains --model from scratch and after layer-wise denoising-autoencoder pretraining on --unlabelled\n" +
			"training images outside the labelled pool, and gives --imagenet a new classifier, trained alone on the\n" +
			"frozen network's cached features or with the whole network fine-tuned (CIFAR images upsampled to its\n" +
			"input size), on --sizes labelled images for each of --seeds; tests on --test-size test images. Adam,\n" +
			"no augmentation, each run at least --min-steps steps. Writes results.csv, accuracy.png (log x, SD shaded)\n" +
			"and summary.txt (table and answer) to --out; a rerun with the same settings skips finished runs.\n" +
			"The defaults take about half an hour on two free cores. Runs of other sizes, seeds or conditions are added to\n" +
			"the same --out. CIFAR-10 is found with $VENTRAL_MIRROR or the cache.",
		Example: "  ventral experiment small-data --out runs/small\n" +
			"  ventral experiment small-data --sizes 100,1000 --seeds 1 --epochs 2 --test-size 500 --out runs/small-quick",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			var err error
			if cfg.Sizes, err = parseList("sizes", sizes, "a positive integer", strconv.Atoi); err != nil {
				return err
			}
			if cfg.Seeds, err = parseSeeds(seeds); err != nil {
				return err
			}
			cfg.Conditions = splitList(conds)
			if cfg.Train, cfg.Test, err = loadData("cifar10", 0, 0); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			cfg.Out, cfg.Log = out, w
			t0, c0 := time.Now(), smalldata.CPUSeconds()
			rows, err := smalldata.Run(cfg)
			if err != nil {
				return err
			}
			text, err := smalldata.Report(cfg, rows, time.Since(t0).Seconds(), smalldata.CPUSeconds()-c0)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\n%s", text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizes, "sizes", "100,300,1000,3000,10000", "numbers of labelled training images")
	f.StringVar(&seeds, "seeds", "1,2,3", "seeds (subsets, weights, batch order)")
	f.StringVar(&conds, "conditions", "scratch,autoencoder,imagenet-head,imagenet-full", "conditions to run")
	f.StringVar(&cfg.Model, "model", cfg.Model, "network trained from scratch and autoencoder-pretrained")
	f.StringVar(&cfg.ImageNet, "imagenet", cfg.ImageNet, "ImageNet-trained network given a new head")
	f.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs of the scratch and autoencoder runs")
	f.IntVar(&cfg.FineTuneEpochs, "finetune-epochs", cfg.FineTuneEpochs, "epochs of the full ImageNet fine-tuning")
	f.IntVar(&cfg.HeadEpochs, "head-epochs", cfg.HeadEpochs, "epochs of the new head on cached features")
	f.IntVar(&cfg.MinSteps, "min-steps", cfg.MinSteps, "each run trains at least this many steps (more epochs on small sets)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size")
	f.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate (scratch, autoencoder, head)")
	f.Float64Var(&cfg.FineTuneLR, "finetune-lr", cfg.FineTuneLR, "Adam learning rate of the full ImageNet fine-tuning")
	f.IntVar(&cfg.Pool, "pool", cfg.Pool, "training images the labelled subsets are drawn from (fixed draw; at least the largest size)")
	f.IntVar(&cfg.Unlabelled, "unlabelled", cfg.Unlabelled, "unlabelled training images for the autoencoders (outside the labelled pool)")
	f.IntVar(&cfg.PretrainEpochs, "pretrain-epochs", cfg.PretrainEpochs, "autoencoder epochs per layer")
	f.Float64Var(&cfg.PretrainNoise, "pretrain-noise", cfg.PretrainNoise, "autoencoder input noise SD, as a fraction of the layer input's SD")
	f.BoolVar(&cfg.PretrainDense, "pretrain-dense", false, "autoencoders for the dense layers too (default: the convolutions only)")
	f.IntVar(&cfg.TestSize, "test-size", cfg.TestSize, "test images (a fixed subset; 0: all 10,000)")
	f.StringVar(&out, "out", "", "output folder")
	experimentCmd.AddCommand(cmd)
}
