package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

func init() {
	var (
		data                    string
		batch, threads, testLim int
	)
	cmd := &cobra.Command{
		Use:     "eval",
		Short:   "Evaluate a checkpoint on a test set; the last line is accuracy=...",
		Example: "  ventral eval --model runs/lenet --data mnist",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString("model")
			if dir == "" {
				return fmt.Errorf("--model is required (a training output folder or a .safetensors checkpoint)")
			}
			if threads > 0 {
				tensor.SetThreads(threads)
			}
			g, err := train.LoadModel(dir)
			if err != nil {
				return err
			}
			if !g.Built() {
				return fmt.Errorf("eval needs trained weights; %s has none (give a run folder, a checkpoint or an imported network)", dir)
			}
			_, test, err := loadData(data, -1, testLim)
			if err != nil {
				return err
			}
			acc, loss, err := train.Evaluate(g, test, batch)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			epoch := ""
			if ck, err := train.LoadCheckpoint(dir); err == nil {
				epoch = fmt.Sprintf(" epoch=%d", ck.Epoch)
			}
			fmt.Fprintf(w, "model=%s%s images=%d loss=%.4f\n", g.Name, epoch, test.N, loss)
			fmt.Fprintf(w, "accuracy=%.4f\n", acc)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("model", "", "a model with trained weights: a training run folder, a checkpoint, or an imported network")
	f.StringVar(&data, "data", "mnist", "data set: mnist or cifar10")
	f.IntVar(&batch, "batch", 256, "batch size")
	f.IntVar(&threads, "threads", 0, "GEMM threads (0: all cores)")
	f.IntVar(&testLim, "test-limit", 0, "evaluate on the first N test images only (0: all)")
	rootCmd.AddCommand(cmd)
}
