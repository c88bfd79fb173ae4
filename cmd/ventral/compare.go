package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/compare"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/results"
)

func init() {
	var (
		modelList, benchList, dbPath, cache, csvPath, against string
		asJSON, noRecord, quiet                               bool
		bootstrap, protoImages, protos                        int
		seed                                                  uint64
	)
	cmd := &cobra.Command{
		Use:   "compare --models hmax,gabor-v1,random:alexnet,RUN,... [--benchmarks NAME,...]",
		Short: "Score trained models and untrained baselines side by side, and test the best against HMAX",
		Long: "Compare scores every model on every benchmark (default: the RSA benchmarks on the 92 images of\n" +
			"Kriegeskorte et al. 2008, human and monkey IT), records each result in the results database, and\n" +
			"prints one row per model and benchmark: the best layer (chosen on half of the stimuli), its\n" +
			"held-out score and normalised score, and its score on all stimuli with a 95% bootstrap interval.\n" +
			"Then, per benchmark, the best model other than HMAX is tested against HMAX (compare.TestPair:\n" +
			"a paired bootstrap of the held-out scores the table shows, resampling the held-out stimuli alike\n" +
			"for both models) and one answer line names the winner. With --against MODEL, every other model\n" +
			"is tested against MODEL instead (one answer per model and benchmark), e.g. networks of growing\n" +
			"depth against a shallow one; with several tests every p is Holm-corrected over the table's tests\n" +
			"(p_holm beside p) and answers judge by the corrected p.\n\n" +
			"--models takes zoo names and model specs (untrained: initialised with --seed), training run\n" +
			"folders and .safetensors checkpoints (trained), and random:NAME (the zoo model with random\n" +
			"weights). HMAX's S2 prototypes are sampled with --seed from --prototype-images CIFAR-10 training\n" +
			"images (natural images, never the benchmark's stimuli), preprocessed as HMAX declares.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelList == "" {
				return fmt.Errorf("compare needs --models")
			}
			if err := benchmarks.CheckBootstrap(bootstrap); err != nil {
				return err
			}
			cfg := compare.Config{Models: splitList(modelList), Benchmarks: splitList(benchList), Seed: seed, Bootstrap: bootstrap,
				HMAXPrototypeImages: protoImages, HMAXPrototypes: protos, DB: dbPath, NoRecord: noRecord, CacheDir: cache, Against: against}
			if !quiet {
				cfg.Log = cmd.ErrOrStderr()
			}
			t, err := compare.Run(cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if csvPath != "" {
				if err := atomicfile.WriteFunc(csvPath, t.WriteCSV); err != nil {
					return err
				}
			}
			if asJSON {
				js, err := t.JSON()
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(js))
				return nil
			}
			if err := t.WriteTable(out); err != nil {
				return err
			}
			if csvPath != "" {
				fmt.Fprintf(out, "table written to %s\n", csvPath)
			}
			if !noRecord {
				fmt.Fprintf(out, "recorded in %s\n", compareDB(dbPath))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelList, "models", "", "comma-separated models: zoo names, random:NAME, model spec files, training run folders, .safetensors checkpoints, .npz precomputed activations")
	f.StringVar(&benchList, "benchmarks", "", "comma-separated built-in benchmark names or spec files (default: "+strings.Join(compare.DefaultBenchmarks(), ",")+")")
	f.Uint64Var(&seed, "seed", 0, "seed for untrained models, HMAX prototypes, the selection split and the bootstraps")
	f.StringVar(&against, "against", "", "test every other model against this one of --models (default: the best against HMAX)")
	f.IntVar(&bootstrap, "bootstrap", 0, "bootstrap samples (default: each benchmark's)")
	f.IntVar(&protoImages, "prototype-images", compare.DefaultPrototypeImages, "natural images (CIFAR-10 training set) HMAX's S2 prototypes are sampled from")
	f.IntVar(&protos, "prototypes", 0, "HMAX prototypes per S2 layer (default: the model's, 250)")
	f.BoolVar(&asJSON, "json", false, "print the table as JSON")
	f.StringVar(&csvPath, "csv", "", "also write the table as CSV to this file")
	f.StringVar(&dbPath, "db", "", "results database: a SQLite file or a postgres:// URL (default $VENTRAL_HOME/results.db)")
	f.BoolVar(&noRecord, "no-record", false, "do not record the results")
	f.StringVar(&cache, "cache", "", "activation cache folder (default: a temporary folder, removed afterwards)")
	f.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	rootCmd.AddCommand(cmd)
}

func compareDB(p string) string {
	if p != "" {
		return p
	}
	return results.DefaultPath()
}
