package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/attention"
)

func init() {
	def := attention.Defaults()
	cfg := def
	var layers, betas, out, images string
	cmd := &cobra.Command{
		Use:   "attention",
		Short: "Lindsay and Miller 2018: feature-similarity gain attention and category detection, by layer and strength",
		Long: "Attends to each CIFAR-10 category in turn by multiplying every feature map of one layer by\n" +
			"max(0, 1 + beta * tuning), where a map's tuning is its mean response to the category minus its mean\n" +
			"over categories, normalised (Lindsay and Miller 2018, eLife 7:e38105), and measures detection of the\n" +
			"attended category on test images (AUC of its logit; d', hit and false-alarm rates and balanced accuracy\n" +
			"of 'present iff it is among the top k classes', k the objects in the image), for every --layers and\n" +
			"--betas, on clean test images and on merged ones (two test images of different categories averaged,\n" +
			"as in Lindsay and Miller's merged-image task). Without --checkpoint the model is\n" +
			"first trained briefly. Prints a table and writes attention.csv to --out.",
		Example: "  ventral experiment attention --out runs/attention\n" +
			"  ventral experiment attention --checkpoint runs/cifar/model.safetensors --layers relu2,relu4 --betas 0,1,5 --out runs/att",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			cfg.Layers, cfg.Images = splitList(layers), splitList(images)
			var err error
			if cfg.Betas, err = parseFloats("betas", betas); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			cfg.Log = w
			res, err := attention.Run(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(w)
			if err := res.WriteTable(w); err != nil {
				return err
			}
			csvPath := filepath.Join(out, "attention.csv")
			if err := res.WriteCSV(csvPath); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s\n", csvPath)
			return nil
		},
	}
	var bs []string
	for _, b := range def.Betas {
		bs = append(bs, strconv.FormatFloat(b, 'g', -1, 64))
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder for attention.csv")
	f.StringVar(&cfg.Model, "model", def.Model, "model name or spec file to train (ignored with --checkpoint)")
	f.StringVar(&cfg.Checkpoint, "checkpoint", "", "a trained model (model.safetensors from ventral train)")
	f.StringVar(&cfg.Data, "data", def.Data, "data set: cifar10 or mnist")
	f.StringVar(&layers, "layers", "", "layers where attention acts, comma-separated (default: every ReLU with feature maps)")
	f.StringVar(&images, "images", strings.Join(def.Images, ","), "test conditions, comma-separated: clean, merged")
	f.StringVar(&betas, "betas", strings.Join(bs, ","), "gain strengths, comma-separated")
	f.IntVar(&cfg.TrainN, "train", def.TrainN, "training images when training here")
	f.IntVar(&cfg.Epochs, "epochs", def.Epochs, "training epochs when training here")
	f.IntVar(&cfg.Batch, "batch", def.Batch, "batch size")
	f.Float64Var(&cfg.LR, "lr", def.LR, "Adam learning rate")
	f.IntVar(&cfg.TuningN, "tuning", def.TuningN, "training images for the tuning curves")
	f.IntVar(&cfg.TestN, "test", def.TestN, "test images for detection")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the weights and batch order")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
