package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/experiments/seqmnist"
)

func init() {
	def := seqmnist.Defaults()
	cfg := def
	var cells, out string
	cmd := &cobra.Command{
		Use:   "sequential-mnist",
		Short: "Train an LSTM and a subLSTM (Costa et al. 2017) of the same size on row-sequential MNIST and compare test accuracy",
		Long: "Each cell reads an MNIST image row by row (28 steps of 28 pixels) and a linear readout classifies its\n" +
			"last hidden state. All cells get the same hidden size, training images, Adam learning rate (cosine\n" +
			"schedule), epochs, batch and seed. Cells: " + strings.Join(seqmnist.Cells, ", ") + " (fix-sublstm: a learned\n" +
			"constant forget gate per unit). Pixel-by-pixel MNIST (784 steps) is not offered: it takes hours on two\n" +
			"cores. The defaults (all cells, 64 units, all 60,000 images, 4 epochs) take about ten minutes on two cores.",
		Example: "  ventral experiment sequential-mnist --out runs/seqmnist\n" +
			"  ventral experiment sequential-mnist --cells lstm,sublstm --hidden 128 --epochs 10 --out runs/seqmnist-128",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Cells = splitList(strings.ToLower(cells))
			w := cmd.OutOrStdout()
			cfg.Log = w
			rows, err := seqmnist.Run(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(w)
			if err := seqmnist.WriteTable(w, rows); err != nil {
				return err
			}
			if out != "" {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return err
				}
				p := filepath.Join(out, "sequential-mnist.csv")
				if err := seqmnist.WriteCSV(p, rows); err != nil {
					return err
				}
				fmt.Fprintf(w, "wrote %s\n", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder for sequential-mnist.csv (optional)")
	f.StringVar(&cells, "cells", strings.Join(def.Cells, ","), "cells to compare, comma-separated: "+strings.Join(seqmnist.Cells, ", "))
	f.IntVar(&cfg.Hidden, "hidden", def.Hidden, "hidden units of every cell")
	f.IntVar(&cfg.TrainN, "train", def.TrainN, "training images (a fixed subset; 0: all 60,000)")
	f.IntVar(&cfg.TestN, "test", def.TestN, "test images (0: all 10,000)")
	f.IntVar(&cfg.Epochs, "epochs", def.Epochs, "training epochs")
	f.IntVar(&cfg.Batch, "batch", def.Batch, "batch size")
	f.Float64Var(&cfg.LR, "lr", def.LR, "Adam learning rate (cosine schedule)")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the weights and batch order")
	f.IntVar(&cfg.Threads, "threads", 0, "compute threads (0: all cores)")
	experimentCmd.AddCommand(cmd)
}
