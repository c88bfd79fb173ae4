package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/subject"
)

func analyzeTimeCourseCmd(af *analyzeFlags) *cobra.Command {
	var bench, cache string
	cmd := &cobra.Command{
		Use:   "time-course",
		Short: "RSA of a recurrent model's layer at every time step against time-binned neural data: the time course of the match",
		Long: "Scores the layer(s) of --layers at every time step of a recurrent model (blt-*, cornet-rt, a spec with\n" +
			"steps > 1; layers LAYER@t0, LAYER@t1, ...) against every time bin of an RSA benchmark whose data are\n" +
			"responses with a time_bin axis (dims: [stimulus, neuroid, time_bin, ...] or a NetCDF/CSV time_bin), with\n" +
			"the benchmark's RDM distance and comparison, on all stimuli, without ceiling. Prints the step x bin\n" +
			"matrix with the best step of each bin; --out writes timecourse-LAYER.csv. The per-step layers are also\n" +
			"ordinary layers elsewhere: ventral score --layers IT@t0,IT@t1,...",
		Example: "  ventral analyze time-course --model blt-blt --layers l2 --benchmark my-timebinned.yaml\n" +
			"  ventral analyze time-course --model runs/cornet --layers V4,IT --benchmark my-timebinned.yaml --out runs/tc",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bench == "" {
				return fmt.Errorf("--benchmark is required")
			}
			layers := splitList(af.layers)
			if len(layers) == 0 {
				return fmt.Errorf("--layers is required: the layer(s) to follow over time")
			}
			g, err := loadAnalyzeModel(af.model, af.seed)
			if err != nil {
				return err
			}
			if g.NumSteps() < 2 {
				return fmt.Errorf("model %q runs one time step: the time course needs a recurrent model (steps > 1)", g.Name)
			}
			b, err := benchmarks.Load(bench)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, l := range layers {
				tc, err := benchmarks.ScoreTimeCourse(subject.FromGraph(g), b, l, benchmarks.Options{Seed: af.seed, CacheDir: cache})
				if err != nil {
					return err
				}
				if err := tc.WriteTable(w); err != nil {
					return err
				}
				if af.out != "" {
					p, err := writeOut(af.out, "timecourse-"+strings.ReplaceAll(l, "/", "_")+".csv", func(f io.Writer) error { return tc.WriteCSV(f) })
					if err != nil {
						return err
					}
					fmt.Fprintln(w, "wrote", p)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bench, "benchmark", "", "RSA benchmark (name or spec file) whose responses have time bins")
	f.StringVar(&cache, "cache", "", "activation cache folder (default: none)")
	return cmd
}
