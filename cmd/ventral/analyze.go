package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/analysis"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/train"
)

// analyzeFlags are shared by every analyze subcommand.
type analyzeFlags struct {
	model, layers, out string
	seed               uint64
}

func init() {
	af := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Analyse a model's layers: receptive fields, feature visualisation, category decoding, lesions",
		Long: "Analyse what a model's layers compute. --model takes a zoo name, a spec file (built with --seed)\n" +
			"or a training output folder / checkpoint; --layers a comma-separated list of layer names;\n" +
			"--out the folder for CSV and images.",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&af.model, "model", "", "model: zoo name, spec file, or training folder / .safetensors checkpoint")
	pf.StringVar(&af.layers, "layers", "", "comma-separated layer names (default depends on the subcommand)")
	pf.StringVar(&af.out, "out", "", "output folder for CSV and images (default: print only)")
	pf.Uint64Var(&af.seed, "seed", 1, "seed for weights of untrained models, random images, folds and choices")
	cmd.AddCommand(analyzeRFCmd(af), analyzeVisualizeCmd(af), analyzeDecodeCmd(af), analyzeLesionCmd(af), analyzeTimeCourseCmd(af))
	rootCmd.AddCommand(cmd)
}

// loadAnalyzeModel resolves --model: a folder or .safetensors file is a checkpoint, anything
// else a zoo name or spec built with the seed.
func loadAnalyzeModel(spec string, seed uint64) (*nn.Graph, error) {
	return builtModel(spec, seed)
}

// layerList parses --layers, checking every name; empty gives def.
func layerList(g *nn.Graph, s string, def []string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	out := splitList(s)
	return out, analysis.CheckLayers(g, out)
}

func writeOut(dir, name string, write func(io.Writer) error) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := atomicfile.WriteFunc(path, write); err != nil {
		return "", err
	}
	return path, nil
}

func analyzeRFCmd(af *analyzeFlags) *cobra.Command {
	var (
		effective bool
		images    int
		degrees   float64
		mass      float64
	)
	cmd := &cobra.Command{
		Use:     "rf",
		Short:   "Receptive field size per layer: theoretical and (with --effective) effective, in pixels and degrees",
		Example: "  ventral analyze rf --model alexnet --effective --out runs/rf-alexnet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := (analysis.ERFOptions{N: images, Mass: mass}).Validate(); err != nil {
				return err
			}
			g, err := loadAnalyzeModel(af.model, af.seed)
			if err != nil {
				return err
			}
			layers, err := layerList(g, af.layers, g.LayerNames())
			if err != nil {
				return err
			}
			rows, err := analysis.ReceptiveFields(g, layers, analysis.RFOptions{Effective: effective, VisualDegrees: degrees,
				ERF: analysis.ERFOptions{N: images, Seed: af.seed, Mass: mass}})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			analysis.WriteRFTable(w, rows)
			if af.out == "" {
				return nil
			}
			p, err := writeOut(af.out, "rf.csv", func(f io.Writer) error { return analysis.WriteRFCSV(f, rows) })
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
			for _, ext := range []string{".png", ".svg"} {
				p := filepath.Join(af.out, "rf"+ext)
				if err := analysis.PlotRF(p, g.Name+": receptive field size", rows); err != nil {
					return err
				}
				fmt.Fprintln(w, "wrote", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&effective, "effective", false, "also measure effective receptive fields (gradients over random images)")
	f.IntVar(&images, "images", 16, "random images for the effective receptive field")
	f.Float64Var(&degrees, "degrees", 0, "width of the model's input in degrees of visual angle (default: the model's preprocessing)")
	f.Float64Var(&mass, "mass", 0.95, "fraction of the gradient mass inside the effective receptive field")
	return cmd
}

func analyzeVisualizeCmd(af *analyzeFlags) *cobra.Command {
	var (
		channels   string
		n, steps   int
		unit       bool
		lr         float64
		jitter     int
		levels     int
		blurEvery  int
		gridScale  int
		gridColumn int
	)
	cmd := &cobra.Command{
		Use:     "visualize",
		Short:   "Images that maximise channels of each layer (activation maximisation), as PNG grids",
		Example: "  ventral analyze visualize --model runs/cifar --layers conv2,conv4 --n 16 --out runs/vis",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadAnalyzeModel(af.model, af.seed)
			if err != nil {
				return err
			}
			var def []string
			for _, l := range analysis.MainLayers(g) {
				if len(g.Node(l).Shape) == 3 {
					def = append(def, l)
				}
			}
			layers, err := layerList(g, af.layers, def)
			if err != nil {
				return err
			}
			chans, err := parseList("channels", channels, "an integer", strconv.Atoi)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-16s %8s %12s\n", "layer", "channel", "activation")
			for _, l := range layers {
				cs := chans
				if cs == nil {
					for i := 0; i < min(n, g.Node(l).Shape[0]); i++ {
						cs = append(cs, i)
					}
				}
				v, err := analysis.Visualize(g, l, analysis.VisOptions{Channels: cs, Unit: unit, Steps: steps, LR: lr, Jitter: jitter,
					Levels: levels, BlurEvery: blurEvery, Seed: af.seed})
				if err != nil {
					return err
				}
				for k, c := range v.Channels {
					fmt.Fprintf(w, "%-16s %8d %12.4f\n", l, c, v.Activation[k])
				}
				if af.out != "" {
					p := filepath.Join(af.out, "visualize_"+l+".png")
					if err := analysis.WriteGrid(p, v.Images, gridColumn, gridScale); err != nil {
						return err
					}
					fmt.Fprintln(w, "wrote", p)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&channels, "channels", "", "comma-separated channel indices (default: the first --n)")
	f.IntVar(&n, "n", 8, "channels per layer when --channels is not given")
	f.BoolVar(&unit, "unit", false, "maximise the centre unit of each channel instead of the channel mean")
	f.IntVar(&steps, "steps", 128, "gradient-ascent steps")
	f.Float64Var(&lr, "lr", 0.1, "step size")
	f.IntVar(&jitter, "jitter", 0, "largest random shift in pixels (0: width/16)")
	f.IntVar(&levels, "levels", 4, "Laplacian pyramid levels")
	f.IntVar(&blurEvery, "blur-every", 4, "blur the image every N steps (negative: never)")
	f.IntVar(&gridScale, "scale", 0, "pixel magnification in the PNG grid (0: tiles at least 96 pixels wide)")
	f.IntVar(&gridColumn, "columns", 0, "grid columns (0: up to 8)")
	return cmd
}

func loadAnalyzeData(name, split string, limit int) (*datasets.Dataset, error) {
	ds, err := datasets.Load(name, split)
	if err != nil {
		return nil, err
	}
	return train.Subset(ds, limit), nil
}

func analyzeDecodeCmd(af *analyzeFlags) *cobra.Command {
	var (
		data, split   string
		limit, folds  int
		maxF, epochs  int
		shuffleLabels bool
		lastStep      bool
	)
	cmd := &cobra.Command{
		Use:   "decode",
		Short: "Linear decodability of category per layer (cross-validated logistic regression): the untangling curve",
		Long: "For a recurrent model (blt-*, cornet-rt, a spec with steps > 1) every layer is decoded at every time\n" +
			"step (rows IT@t0, IT@t1, ...): how category becomes readable over time. --last-step decodes the\n" +
			"last step only; a name such as IT@t2 in --layers picks one step.",
		Example: "  ventral analyze decode --model runs/lenet --data mnist --limit 1000 --out runs/decode\n" +
			"  ventral analyze decode --model blt-blt --data cifar10 --layers l1,l2 --limit 500",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadAnalyzeModel(af.model, af.seed)
			if err != nil {
				return err
			}
			layers := append([]string{}, analysis.MainLayers(g)...)
			if strings.TrimSpace(af.layers) != "" {
				layers = splitList(af.layers)
			}
			if !lastStep {
				layers = analysis.PerStep(g, layers)
			}
			if err := analysis.CheckStepLayers(g, layers); err != nil {
				return fmt.Errorf("--layers: %w", err)
			}
			ds, err := loadAnalyzeData(data, split, limit)
			if err != nil {
				return err
			}
			rows, err := analysis.Decode(g, ds, layers, analysis.DecodeOptions{Folds: folds, Seed: af.seed, MaxFeatures: maxF, Epochs: epochs, ShuffleLabels: shuffleLabels})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-16s %9s %6s %9s %7s %7s\n", "layer", "features", "used", "accuracy", "sd", "chance")
			for _, r := range rows {
				fmt.Fprintf(w, "%-16s %9d %6d %9.4f %7.4f %7.4f\n", r.Layer, r.Features, r.Used, r.Accuracy, r.SD, r.Chance)
			}
			if af.out == "" {
				return nil
			}
			p, err := writeOut(af.out, "decode.csv", func(f io.Writer) error { return analysis.WriteDecodeCSV(f, rows) })
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
			for _, ext := range []string{".png", ".svg"} {
				p := filepath.Join(af.out, "decode"+ext)
				if err := analysis.PlotDecode(p, fmt.Sprintf("%s: linear decoding of %s category", g.Name, data), rows); err != nil {
					return err
				}
				fmt.Fprintln(w, "wrote", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "mnist", "labelled data set: mnist or cifar10")
	f.StringVar(&split, "split", "test", "split: train or test")
	f.IntVar(&limit, "limit", 1000, "use the first N images (0: all)")
	f.IntVar(&folds, "folds", 5, "stratified cross-validation folds")
	f.IntVar(&maxF, "max-features", 1024, "hash larger layers down to this many features")
	f.IntVar(&epochs, "epochs", 40, "classifier training epochs")
	f.BoolVar(&shuffleLabels, "shuffle-labels", false, "control: permute the labels (accuracy should be at chance)")
	f.BoolVar(&lastStep, "last-step", false, "recurrent models: decode the last time step only (default: every step)")
	return cmd
}

func analyzeLesionCmd(af *analyzeFlags) *cobra.Command {
	var (
		data, split, fractions, bench, scoreLayer string
		limit, bootstrap                          int
		units                                     bool
	)
	cmd := &cobra.Command{
		Use:     "lesion",
		Short:   "Silence a growing fraction of a layer's channels (or units): accuracy and brain score after each",
		Example: "  ventral analyze lesion --model runs/lenet --layers conv2 --data mnist --fractions 0,0.5,1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadAnalyzeModel(af.model, af.seed)
			if err != nil {
				return err
			}
			layers, err := layerList(g, af.layers, nil)
			if err != nil {
				return err
			}
			if len(layers) == 0 {
				return fmt.Errorf("lesion needs --layers (one or more of: %v)", g.LayerNames())
			}
			fr, err := parseList("fractions", fractions, "a fraction in [0, 1]", func(s string) (float64, error) {
				v, err := strconv.ParseFloat(s, 64)
				if err == nil && (v < 0 || v > 1) {
					err = fmt.Errorf("out of range")
				}
				return v, err
			})
			if err != nil {
				return err
			}
			o := analysis.SweepOptions{Fractions: fr, Units: units, Seed: af.seed, ScoreLayer: scoreLayer,
				Score: benchmarks.Options{Seed: af.seed, Bootstrap: bootstrap}}
			if data != "" {
				if o.Data, err = loadAnalyzeData(data, split, limit); err != nil {
					return err
				}
			}
			if bench != "" {
				if o.Benchmark, err = benchmarks.Load(bench); err != nil {
					return err
				}
			}
			var all []analysis.LesionRow
			for _, l := range layers {
				o.Layer = l
				rows, err := analysis.LesionSweep(g, o)
				if err != nil {
					return err
				}
				all = append(all, rows...)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-16s %9s %14s %9s %9s %9s %s\n", "layer", "fraction", "silenced", "accuracy", "loss", "score", "score_layer")
			for _, r := range all {
				fmt.Fprintf(w, "%-16s %9.3f %14s %9.4f %9.4f %9.4f %s\n", r.Layer, r.Fraction, fmt.Sprintf("%d/%d", r.Silenced, r.Total), r.Accuracy, r.Loss, r.Score, r.ScoreLayer)
			}
			if af.out == "" {
				return nil
			}
			p, err := writeOut(af.out, "lesion.csv", func(f io.Writer) error { return analysis.WriteLesionCSV(f, all) })
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&fractions, "fractions", "0,0.25,0.5,0.75,1", "comma-separated fractions to silence")
	f.BoolVar(&units, "units", false, "silence individual units instead of whole channels")
	f.StringVar(&data, "data", "mnist", "evaluation data set for accuracy: mnist or cifar10 (empty: none)")
	f.StringVar(&split, "split", "test", "split: train or test")
	f.IntVar(&limit, "limit", 0, "evaluate on the first N images (0: all)")
	f.StringVar(&bench, "benchmark", "", "also score on this benchmark (name or spec): "+strings.Join(benchmarks.Builtin(), ", "))
	f.StringVar(&scoreLayer, "score-layer", "", "report this layer's benchmark score (default: the best layer's held-out score)")
	f.IntVar(&bootstrap, "bootstrap", -1, "bootstrap samples for the benchmark (negative: none)")
	return cmd
}
