package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/bench"
	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	benchCmd := &cobra.Command{Use: "bench", Short: "Measure ventral beside its peers (PyTorch, gonum, numpy, scikit-learn) in the same run"}

	var o bench.Options
	var seconds float64
	engine := &cobra.Command{
		Use:   "engine",
		Short: "Training and inference throughput of the engine workloads, beside PyTorch on the CPU",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.MinTime = time.Duration(seconds * float64(time.Second))
			fmt.Printf("# ventral engine benchmark: threads=%d (ours and the peer's), median step times\n", max(o.Threads, 1))
			res, err := bench.Engine(o, func(s string) { fmt.Fprintln(os.Stderr, "#", s) })
			for _, r := range res {
				fmt.Println(r)
				fmt.Fprintf(os.Stderr, "# %s peak RSS so far %.0f MB\n", r.Name, r.PeakRSSMB)
			}
			return err
		},
	}
	engine.Flags().IntVar(&o.Threads, "threads", 1, "threads for ours and the peer")
	engine.Flags().StringVar(&o.Only, "only", "", "run one workload: "+strings.Join(bench.Workloads(), ", "))
	engine.Flags().Float64Var(&seconds, "seconds", 8, "measuring time per workload")
	engine.Flags().BoolVar(&o.NoPeer, "no-peer", false, "skip the PyTorch peer")
	engine.Flags().StringVar(&o.PeerDir, "peers", "", "folder of the peer scripts (default: shared/bench beside the checkout, or $VENTRAL_PEERS)")

	var gemmThreads int
	var gemmSeconds float64
	var noPeer bool
	gemm := &cobra.Command{
		Use:   "gemm",
		Short: "Single-precision GEMM throughput: ours, gonum, numpy/OpenBLAS",
		RunE: func(cmd *cobra.Command, _ []string) error {
			prev := tensor.Threads()
			tensor.SetThreads(gemmThreads)
			defer tensor.SetThreads(prev)
			shapes := tensor.DefaultGemmShapes()
			res := tensor.GemmTable(shapes, time.Duration(gemmSeconds*float64(time.Second)))
			peer := map[string]float64{}
			if !noPeer {
				var err error
				if peer, err = bench.NumpyGemm(shapes, gemmThreads, ""); err != nil {
					fmt.Fprintln(os.Stderr, "#", err)
				}
			}
			fmt.Printf("# GFLOP/s, float32, threads=%d (numpy threads set by OPENBLAS_NUM_THREADS)\n", gemmThreads)
			fmt.Printf("%-22s %16s %10s %10s %10s %12s\n", "shape", "MxNxK", "ours", "gonum", "numpy", "ours/numpy")
			for _, r := range res {
				key := fmt.Sprintf("%dx%dx%d", r.M, r.N, r.K)
				np := peer[key]
				ratio := "-"
				if np > 0 {
					ratio = fmt.Sprintf("%.2f", r.OursGFLOPS/np)
				}
				fmt.Printf("%-22s %16s %10.1f %10.1f %10s %12s\n", r.Name, key, r.OursGFLOPS, r.GonumGFLOPS, fmtOr(np), ratio)
			}
			return nil
		},
	}
	gemm.Flags().IntVar(&gemmThreads, "threads", 1, "threads")
	gemm.Flags().Float64Var(&gemmSeconds, "seconds", 0.5, "measuring time per shape and implementation")
	gemm.Flags().BoolVar(&noPeer, "no-peer", false, "skip numpy")

	var plsShape [3]int
	var plsNoPeer bool
	pls := &cobra.Command{
		Use:   "pls",
		Short: "PLS-25 neural predictivity with 10-fold cross-validation, beside scikit-learn",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Printf("# PLS-25, 10-fold CV, %d stimuli x %d features x %d neuroids (float64 ours, float32 sklearn)\n", plsShape[0], plsShape[1], plsShape[2])
			r, err := bench.PLS(plsShape[0], plsShape[1], plsShape[2], bench.Options{NoPeer: plsNoPeer})
			if err != nil {
				return err
			}
			line := fmt.Sprintf("BENCH pls25-10fold seconds=%.2f median_r=%.4f peak_heap_MB=%.0f", r.Ours.Seconds, r.Ours.MedianR, r.Ours.PeakMB)
			if r.PeerSeconds > 0 {
				line += fmt.Sprintf(" peer_seconds=%.2f peer_median_r=%.4f peer_maxrss_MB=%.0f speedup=%.1fx", r.PeerSeconds, r.PeerMedianR, r.PeerMaxRSS, r.Speedup())
			} else if r.PeerErr != nil {
				line += fmt.Sprintf(" peer=unavailable (%v)", r.PeerErr)
			}
			fmt.Println(line)
			return nil
		},
	}
	pls.Flags().IntVar(&plsShape[0], "stimuli", 1200, "stimuli")
	pls.Flags().IntVar(&plsShape[1], "features", 4096, "features")
	pls.Flags().IntVar(&plsShape[2], "neuroids", 100, "neuroids")
	pls.Flags().BoolVar(&plsNoPeer, "no-peer", false, "skip scikit-learn")

	var io bench.ImportOptions
	var ioSeconds float64
	importCmd := &cobra.Command{
		Use:   "import",
		Short: "Inference of imported ONNX networks (int8 MobileNetV2, ResNet-18) beside onnxruntime on the same files",
		RunE: func(cmd *cobra.Command, _ []string) error {
			io.MinTime = time.Duration(ioSeconds * float64(time.Second))
			fmt.Printf("# ventral imported-network benchmark: 224 px, median forward times; peer = onnxruntime-node at the same thread count\n")
			res, err := bench.Import(io, func(s string) { fmt.Fprintln(os.Stderr, "#", s) })
			for _, r := range res {
				fmt.Println(r)
			}
			return err
		},
	}
	importCmd.Flags().IntSliceVar(&io.Threads, "threads", []int{1, 2}, "thread counts (ours and the peer's)")
	importCmd.Flags().IntVar(&io.Batch, "batch", 16, "images per forward pass")
	importCmd.Flags().Float64Var(&ioSeconds, "seconds", 8, "measuring time per workload and thread count")
	importCmd.Flags().StringVar(&io.Only, "only", "", "run one workload: "+strings.Join(bench.ImportWorkloads(), ", "))
	importCmd.Flags().BoolVar(&io.NoPeer, "no-peer", false, "skip onnxruntime")
	importCmd.Flags().StringVar(&io.ORT, "ort", "", "onnxruntime-node package folder (default $VENTRAL_ORT or the peer cache)")

	benchCmd.AddCommand(engine, gemm, pls, importCmd)
	rootCmd.AddCommand(benchCmd)
}

func fmtOr(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}
