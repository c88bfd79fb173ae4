package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/internal/atomicfile"
)

func init() {
	root := &cobra.Command{
		Use:   "benchmark",
		Short: "Check a benchmark spec and its files, or write a starting spec for your data",
	}
	var asJSON bool
	check := &cobra.Command{
		Use:   "check SPEC|NAME",
		Short: "Validate a benchmark and its files without scoring",
		Long: "Check loads the spec's stimuli and data and reports counts (stimuli, neuroids, time bins,\n" +
			"repetitions present per stimulus and neuroid, NaNs), whether the data's stimulus ids match the\n" +
			"stimuli, which neuroids scoring would drop, and what the ceiling will use. It exits non-zero\n" +
			"when scoring would fail.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := benchmarks.Load(args[0])
			if err != nil {
				return err
			}
			r, err := benchmarks.Check(s)
			if err != nil {
				return err
			}
			if asJSON {
				b, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else if err := r.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if !r.OK() {
				return fmt.Errorf("benchmark %s: %d problem(s)", s.Name, len(r.Problems))
			}
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")

	var o benchmarks.NewOptions
	var dims string
	nw := &cobra.Command{
		Use:   "new --stimuli PATH --data FILE [--dims a,b,c] [--out spec.yaml]",
		Short: "Write a starting benchmark spec for a stimulus file and a data file",
		Long: "New reads the stimuli (a folder, .zip, .npy, .npz or .mat) and the responses (.npy, .npz or\n" +
			".mat arrays, NaN for a missing repetition, or CSV), guesses the array's axes unless --dims names\n" +
			"them (any order of stimulus, neuroid, time_bin, repetition), checks the result as 'benchmark\n" +
			"check' does and writes the spec to --out (or prints it). Fill in the citation.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Dims = splitList(dims)
			s, r, err := benchmarks.NewSpec(o)
			if r != nil {
				r.WriteText(cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			y, err := s.Marshal()
			if err != nil {
				return err
			}
			if o.Out == "" {
				_, err = cmd.OutOrStdout().Write(y)
				return err
			}
			if _, err := os.Stat(o.Out); err == nil {
				return fmt.Errorf("%s exists; not overwriting it", o.Out)
			}
			if err := atomicfile.Write(o.Out, y); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", o.Out)
			return nil
		},
	}
	f := nw.Flags()
	f.StringVar(&o.Stimuli, "stimuli", "", "images: a folder, .zip, .npy, .npz or .mat")
	f.StringVar(&o.Data, "data", "", "responses: .npy, .npz, .mat, .csv, or a Brain-Score assembly as NetCDF (.nc) or HDF5 (.h5)")
	f.StringVar(&o.Variable, "variable", "", "the .npz member or .mat variable holding the responses")
	f.StringVar(&dims, "dims", "", "the data array's axes in order, e.g. neuroid,stimulus,repetition")
	f.StringVar(&o.Name, "name", "", "benchmark name (default: the data file's name and the metric)")
	f.StringVar(&o.Region, "region", "", "brain region (default IT)")
	f.StringVar(&o.Metric, "metric", "", "pls (default) or rsa")
	f.StringVar(&o.Out, "out", "", "write the spec here (paths in it become relative to its folder)")
	root.AddCommand(check, nw)
	rootCmd.AddCommand(root)
}
