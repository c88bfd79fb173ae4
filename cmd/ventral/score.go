package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/train"
)

func init() {
	var (
		model, acts, name, bench, layers, dbPath, cache string
		asJSON, noRecord                                bool
		bootstrap                                       int
		seed                                            uint64
	)
	cmd := &cobra.Command{
		Use:   "score (--model NAME|SPEC|RUN | --activations FEATS.npz|.h5|.nc) --benchmark NAME|SPEC",
		Short: "Score a model's layers on a neural benchmark and record the result",
		Long: "Score shows the benchmark's stimuli to the model, compares every layer (or --layers) with the\n" +
			"neural data, prints the per-layer table and the best layer (chosen on held-out data), and\n" +
			"records the result in the results database. --model is a zoo name or model spec (initialised\n" +
			"with --seed) or a training run folder or .safetensors checkpoint (its trained weights).\n" +
			"--activations scores a model run anywhere else from its activations: an .npz, HDF5 (.h5) or\n" +
			"NetCDF4 (.nc) file with one array per layer, named by the layer, one row per stimulus in the\n" +
			"benchmark's stimulus order (or with an array 'ids' or 'stimulus_id' giving each row's stimulus\n" +
			"id; LAYER@SPLIT arrays for a train/test split).\n" +
			"Built-in benchmarks: " + strings.Join(benchmarks.Builtin(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (model == "") == (acts == "") || bench == "" {
				return fmt.Errorf("score needs --benchmark and one of --model and --activations")
			}
			if err := benchmarks.CheckBootstrap(bootstrap); err != nil {
				return err
			}
			var m subject.Model
			if acts != "" {
				p, err := subject.Open(acts, name)
				if err != nil {
					return err
				}
				m = p
			} else {
				g, err := train.LoadModel(model)
				if err != nil {
					return err
				}
				if !g.Built() {
					if err := g.Build(seed); err != nil {
						return err
					}
				}
				m = subject.FromGraph(g)
			}
			b, err := benchmarks.Load(bench)
			if err != nil {
				return err
			}
			// Open the results database before scoring: a bad --db is reported now, not after
			// the scoring run.
			var db *results.DB
			dbPath := dbPath // the flag's value stays as given
			if !noRecord {
				if dbPath == "" {
					dbPath = results.DefaultPath()
				}
				if db, err = results.Open(dbPath); err != nil {
					return err
				}
				defer db.Close()
			}
			opts := benchmarks.Options{Seed: seed, Bootstrap: bootstrap, CacheDir: cache}
			if layers != "" {
				opts.Layers = strings.Split(layers, ",")
			}
			start := time.Now()
			r, err := benchmarks.Score(m, b, opts)
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			out := cmd.OutOrStdout()
			if asJSON {
				js, err := r.JSON()
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(js))
			} else {
				if err := r.WriteTable(out); err != nil {
					return err
				}
				fmt.Fprintf(out, "scored in %.1fs\n", elapsed.Seconds())
			}
			if noRecord {
				return nil
			}
			if _, err := db.Record(r, train.Version()); err != nil {
				return fmt.Errorf("recording the result in %s: %w", dbPath, err)
			}
			if !asJSON {
				fmt.Fprintf(out, "recorded in %s\n", dbPath)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model name from the zoo, a model spec file, a training run folder or a .safetensors checkpoint")
	f.StringVar(&acts, "activations", "", "precomputed activations (.npz, .h5 or .nc, one array per layer) of a model run elsewhere, in place of --model")
	f.StringVar(&name, "name", "", "the model's name in results with --activations (default: the file name)")
	f.StringVar(&bench, "benchmark", "", "built-in benchmark name or a benchmark spec file")
	f.StringVar(&layers, "layers", "", "comma-separated layers to score (default: all but loss/softmax)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.IntVar(&bootstrap, "bootstrap", 0, "bootstrap samples (default: the benchmark's)")
	f.Uint64Var(&seed, "seed", 0, "seed for the model's initialisation (if untrained), the selection split and the bootstrap")
	f.StringVar(&dbPath, "db", "", "results database: a SQLite file or a postgres:// URL (default $VENTRAL_HOME/results.db)")
	f.StringVar(&cache, "cache", "", "activation cache folder (default: none)")
	f.BoolVar(&noRecord, "no-record", false, "do not record the result")
	rootCmd.AddCommand(cmd)
}
