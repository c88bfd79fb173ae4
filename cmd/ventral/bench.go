package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/bench"
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
			fmt.Println(bench.Header())
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

	var g bench.GemmOptions
	var gemmSeconds float64
	gemm := &cobra.Command{
		Use:   "gemm",
		Short: "Single-precision GEMM throughput: ours, gonum, numpy/OpenBLAS, and fractions of the FMA peak",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Println(bench.Header())
			g.MinTime = time.Duration(gemmSeconds * float64(time.Second))
			runs, err := bench.Gemm(g, func(s string) { fmt.Fprintln(os.Stderr, "#", s) })
			fmt.Println("# GFLOP/s, float32, medians of repeated batches: by wall time, then per busy core (CPU time); peak = FMA peak per busy core at the same thread count")
			for _, r := range runs {
				r.Print(os.Stdout)
			}
			return err
		},
	}
	gemm.Flags().IntSliceVar(&g.Threads, "threads", []int{1, 2}, "thread counts (ours, gonum and numpy alike)")
	gemm.Flags().Float64Var(&gemmSeconds, "seconds", 0.5, "measuring time per shape and implementation")
	gemm.Flags().BoolVar(&g.NoPeer, "no-peer", false, "skip numpy")

	var peakThreads []int
	var peakSeconds float64
	peak := &cobra.Command{
		Use:   "peak",
		Short: "The machine's float32 FMA throughput (GFLOP/s), the peak other figures are fractions of",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Println(bench.Header())
			res, err := bench.Peak(peakThreads, time.Duration(peakSeconds*float64(time.Second)))
			for _, p := range res {
				fmt.Println(bench.PeakLine(p))
			}
			return err
		},
	}
	peak.Flags().IntSliceVar(&peakThreads, "threads", []int{1, 2}, "thread counts")
	peak.Flags().Float64Var(&peakSeconds, "seconds", 1, "measuring time per thread count")

	var plsShape [3]int
	var plsNoPeer bool
	pls := &cobra.Command{
		Use:   "pls",
		Short: "PLS-25 neural predictivity with 10-fold cross-validation, beside scikit-learn",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Println(bench.Header())
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
			fmt.Println(bench.Header())
			fmt.Printf("# ventral imported-network benchmark: 224 px, median forward times; peer = onnxruntime-node at the same thread count, alternating with ours in rounds (medians of the rounds; ranges in the note)\n")
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
	importCmd.Flags().IntVar(&io.Rounds, "rounds", 3, "rounds alternating ours and onnxruntime within that time (medians reported)")
	importCmd.Flags().StringVar(&io.Only, "only", "", "run one workload: "+strings.Join(bench.ImportWorkloads(), ", "))
	importCmd.Flags().BoolVar(&io.NoPeer, "no-peer", false, "skip onnxruntime")
	importCmd.Flags().StringVar(&io.ORT, "ort", "", "onnxruntime-node package folder (default $VENTRAL_ORT or the peer cache)")

	benchCmd.AddCommand(engine, gemm, peak, pls, importCmd)
	rootCmd.AddCommand(benchCmd)
}
