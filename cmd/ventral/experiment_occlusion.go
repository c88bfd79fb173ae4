package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/occlusion"
	"github.com/ventral-lab/ventral/models"
)

// experimentCmd groups the reproductions of published experiments; each adds itself in its
// own file.
var experimentCmd = &cobra.Command{
	Use:   "experiment",
	Short: "Reproduce published experiments in kind (see the subcommands)",
	Args:  cobra.NoArgs,
}

func init() {
	rootCmd.AddCommand(experimentCmd)
	def := occlusion.Defaults()
	cfg := def
	var variants, out, seeds string
	cmd := &cobra.Command{
		Use:   "occlusion",
		Short: "Spoerer et al. 2017: B, BL, BT, BLT recurrent networks on clean, occluded and noisy MNIST digits",
		Long: "Trains the B (widened to BLT's parameter count), BL, BT and BLT networks of Spoerer, McClure and\n" +
			"Kriegeskorte 2017 with the same data, epochs, optimizer and seed, and reports their accuracy on clean,\n" +
			"occluded and noisy test digits generated from MNIST with a fixed seed: a table, accuracy.csv and\n" +
			"accuracy.png in --out. The defaults fit a few minutes on two CPU cores; scale up with --train,\n" +
			"--epochs and --channels. --seeds repeats the whole experiment per seed and reports the mean, the\n" +
			"spread over seeds and in how many seeds each variant beats B.",
		Example: "  ventral experiment occlusion --out runs/occlusion\n" +
			"  ventral experiment occlusion --train 20000 --epochs 10 --channels 32 --out runs/occlusion-big\n" +
			"  ventral experiment occlusion --train 5000 --seeds 1,2,3 --out runs/occlusion-seeds",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			cfg.Variants = splitList(strings.ToLower(variants))
			var err error
			if cfg.Seeds, err = parseSeeds(seeds); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			cfg.Log = w
			res, err := occlusion.Run(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "\nSettings")
			fmt.Fprintln(w, res.Settings())
			fmt.Fprintln(w, "\nAccuracy at the last time step")
			if err := res.WriteTable(w); err != nil {
				return err
			}
			fmt.Fprintln(w)
			fmt.Fprint(w, res.Summary())
			fmt.Fprintln(w, "Spoerer et al. 2017 found BL and BLT ahead of B on occluded digits; compare the occluded line above.")
			csvPath, pngPath := filepath.Join(out, "accuracy.csv"), filepath.Join(out, "accuracy.png")
			if err := res.WriteCSV(csvPath); err != nil {
				return err
			}
			if err := res.Plot(pngPath); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s and %s\n", csvPath, pngPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder for accuracy.csv and accuracy.png")
	f.StringVar(&variants, "variants", strings.Join(def.Variants, ","), "variants to train, comma-separated: "+strings.Join(models.BLTVariants, ", ")+
		" (b: widened to BLT's parameter count; b-k: larger kernels instead; b0: not widened)")
	f.IntVar(&cfg.TrainN, "train", def.TrainN, "training images (the first of MNIST train)")
	f.IntVar(&cfg.TestN, "test", def.TestN, "test images per condition (the first of MNIST test)")
	f.IntVar(&cfg.Channels, "channels", def.Channels, "feature maps per layer of BL, BT and BLT")
	f.IntVar(&cfg.Kernel, "kernel", def.Kernel, "kernel side (odd)")
	f.IntVar(&cfg.Steps, "steps", def.Steps, "time steps")
	f.IntVar(&cfg.Epochs, "epochs", def.Epochs, "training epochs")
	f.IntVar(&cfg.Batch, "batch", def.Batch, "batch size")
	f.Float64Var(&cfg.LR, "lr", def.LR, "Adam learning rate")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the weights, the batch order and the generated images")
	f.StringVar(&seeds, "seeds", "", "comma-separated seeds: repeat the experiment once per seed (overrides --seed)")
	f.StringVar(&cfg.TrainOn, "train-on", def.TrainOn, "training images: mixed (a third each clean, occluded, noisy), clean or occluded")
	f.Float64Var(&cfg.Occluder.Fraction, "fraction", def.Occluder.Fraction, "fraction of each digit's ink hidden by occluders (debris: ink added)")
	f.StringVar(&cfg.Occluder.Shape, "occluder", def.Occluder.Shape, "occluders: mixed, blobs or bars (grey shapes hiding --fraction of the ink), or debris (fragments of other digits adding --fraction of the ink, as in Spoerer et al.'s digit debris)")
	f.Float32Var(&cfg.Occluder.Value, "occluder-value", def.Occluder.Value, "grey level of the occluders in [0,1] (0: black, deletes ink)")
	f.StringVar(&cfg.Noise.Kind, "noise", def.Noise.Kind, "pixel noise: gaussian or uniform")
	f.Float64Var(&cfg.Noise.Level, "noise-level", def.Noise.Level, "noise standard deviation (gaussian) or half-width (uniform)")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
