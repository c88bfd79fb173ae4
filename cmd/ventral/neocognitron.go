package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// neoOptions are the train-neocognitron settings.
type neoOptions struct {
	out                        string
	images, readout, test      int
	seed                       uint64
	epochs, readoutEpochs      int
	competition                int
	minContrast                float64
	baseline                   bool
	threads                    int
	selectivity1, s2sel, s3sel float64
}

func init() {
	var o neoOptions
	cmd := &cobra.Command{
		Use:   "train-neocognitron",
		Short: "Fukushima 1980: learn a neocognitron's S-planes on MNIST without labels, then fit a linear readout",
		Long: "Learns the S-planes of the neocognitron model layer by layer by competitive (winner-take-all)\n" +
			"learning with plane recruitment on the first --images MNIST training digits (no labels), fits a\n" +
			"multinomial logistic-regression readout on the top C-layer features of the first --readout\n" +
			"training digits, and reports accuracy on the first --test MNIST test digits, with the same\n" +
			"architecture at random S-weights as a baseline (--baseline=false skips it). Writes the learned\n" +
			"model with its readout to --out/model.safetensors (a checkpoint for `ventral eval`) and\n" +
			"--out/model.yaml.",
		Example: "  ventral train-neocognitron --out runs/neocognitron\n" +
			"  ventral train-neocognitron --images 20000 --readout 60000 --out runs/neo-big",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runNeocognitron(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "output folder for the checkpoint (required)")
	f.IntVar(&o.images, "images", 5000, "training images for the unsupervised learning (the first of MNIST train)")
	f.IntVar(&o.readout, "readout", 20000, "training images for the linear readout (the first of MNIST train)")
	f.IntVar(&o.test, "test", 10000, "test images (the first of MNIST test)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the random baseline weights, image order and readout")
	f.IntVar(&o.epochs, "epochs", 1, "unsupervised passes over the images per layer")
	f.IntVar(&o.readoutEpochs, "readout-epochs", 15, "readout training epochs")
	f.IntVar(&o.competition, "competition", 0, "competition radius in S-cell positions (0: half the kernel)")
	f.Float64Var(&o.minContrast, "min-contrast", 0, "fraction of the image's strongest patch below which no plane is recruited (0: 0.3)")
	f.Float64Var(&o.selectivity1, "theta1", 0, "selectivity θ of s1 in [0,1) (0: the model's)")
	f.Float64Var(&o.s2sel, "theta2", 0, "selectivity θ of s2 (0: the model's)")
	f.Float64Var(&o.s3sel, "theta3", 0, "selectivity θ of s3 (0: the model's)")
	f.BoolVar(&o.baseline, "baseline", true, "also report the random-weight baseline")
	f.IntVar(&o.threads, "threads", 0, "GEMM threads (0: all cores)")
	rootCmd.AddCommand(cmd)
}

func runNeocognitron(cmd *cobra.Command, o neoOptions) error {
	if o.out == "" {
		return fmt.Errorf("--out is required")
	}
	if o.images <= 0 || o.readout <= 0 || o.test <= 0 {
		return fmt.Errorf("--images, --readout and --test must be positive")
	}
	if o.threads > 0 {
		tensor.SetThreads(o.threads)
	}
	w := cmd.OutOrStdout()
	trainSet, err := datasets.Load("mnist", "train")
	if err != nil {
		return err
	}
	testSet, err := datasets.Load("mnist", "test")
	if err != nil {
		return err
	}
	build := func() (*nn.Graph, error) {
		g, err := models.Get("neocognitron")
		if err != nil {
			return nil, err
		}
		for name, th := range map[string]float64{"s1": o.selectivity1, "s2": o.s2sel, "s3": o.s3sel} {
			if th != 0 {
				if th < 0 {
					th = 0
				}
				if err := setSelectivity(g, name, th); err != nil {
					return nil, err
				}
			}
		}
		if err := g.Build(o.seed); err != nil {
			return nil, err
		}
		return g, nil
	}
	sub := func(d *datasets.Dataset, n int) (*tensor.Tensor, []int) {
		n = min(n, d.N)
		return tensor.FromData(d.X[:n*d.ImageSize()], n, d.C, d.H, d.W), d.Labels[:n]
	}
	learnX, _ := sub(trainSet, o.images)
	roX, roY := sub(trainSet, o.readout)
	teX, teY := sub(testSet, o.test)
	fmt.Fprintf(w, "neocognitron on MNIST: %d images unsupervised, %d for the readout, %d test\n", learnX.Shape[0], roX.Shape[0], teX.Shape[0])

	type result struct {
		name          string
		trainAcc, acc float64
		learnT, readT time.Duration
	}
	var results []result
	run := func(name string, learn bool) (*nn.Graph, error) {
		g, err := build()
		if err != nil {
			return nil, err
		}
		r := result{name: name}
		t0 := time.Now()
		if learn {
			stats, err := models.TrainNeocognitron(g, learnX, models.NeoConfig{Epochs: o.epochs, Competition: o.competition, MinContrast: o.minContrast, Log: w}, o.seed)
			if err != nil {
				return nil, err
			}
			for _, s := range stats {
				fmt.Fprintf(w, "%s: %d planes recruited, %d reinforcements, wins per plane %v\n", s.Layer, s.Planes, s.Updates, s.Wins)
			}
		}
		r.learnT = time.Since(t0)
		t0 = time.Now()
		fmt.Fprintf(w, "%s: computing features...\n", name)
		ftr, err := models.NeocognitronFeatures(g, roX)
		if err != nil {
			return nil, err
		}
		if r.trainAcc, err = models.FitNeocognitronReadout(g, ftr, roY, models.ReadoutConfig{Epochs: o.readoutEpochs}, o.seed); err != nil {
			return nil, err
		}
		fte, err := models.NeocognitronFeatures(g, teX)
		if err != nil {
			return nil, err
		}
		if r.acc, err = models.NeocognitronAccuracy(g, fte, teY); err != nil {
			return nil, err
		}
		r.readT = time.Since(t0)
		fmt.Fprintf(w, "%s: train accuracy %.4f, test accuracy %.4f (learning %.1fs, features and readout %.1fs)\n", name, r.trainAcc, r.acc, r.learnT.Seconds(), r.readT.Seconds())
		results = append(results, r)
		return g, nil
	}
	learned, err := run("learned", true)
	if err != nil {
		return err
	}
	if o.baseline {
		if _, err := run("random", false); err != nil {
			return err
		}
		// At the model's selectivity few random S-cells ever fire; θ = 0 gives random weights
		// their best chance (every positive cosine excites).
		o.selectivity1, o.s2sel, o.s3sel = -1, -1, -1
		if _, err := run("random-θ0", false); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nmodel    test accuracy  train accuracy")
	for _, r := range results {
		fmt.Fprintf(w, "%-8s %13.4f  %14.4f\n", r.name, r.acc, r.trainAcc)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	g := learned
	g.Meta["readout"] = fmt.Sprintf("logistic regression on %d MNIST training images, test accuracy %.4f on %d", roX.Shape[0], results[0].acc, teX.Shape[0])
	ckpt := filepath.Join(o.out, train.CheckpointFile)
	meta := map[string]string{"data": "mnist", "test_acc": strconv.FormatFloat(results[0].acc, 'f', 4, 64)}
	if err := train.SaveWeights(ckpt, g, meta); err != nil {
		return err
	}
	spec, err := g.SpecYAML()
	if err != nil {
		return err
	}
	specPath := filepath.Join(o.out, train.SpecFile)
	if err := atomicfile.Write(specPath, spec); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s and %s\n", ckpt, specPath)
	return nil
}

// setSelectivity sets the selectivity θ of the named s_cell layer of an unbuilt graph.
func setSelectivity(g *nn.Graph, name string, th float64) error {
	n := g.Node(name)
	if n == nil {
		return fmt.Errorf("no layer %q in %s", name, g.Name)
	}
	s, ok := n.Op.(*nn.SCell)
	if !ok {
		return fmt.Errorf("layer %q of %s is not an s_cell layer", name, g.Name)
	}
	s.Selectivity = th
	return nil
}
