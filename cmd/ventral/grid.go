package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/grid"
)

func init() {
	cmd := &cobra.Command{
		Use:   "grid",
		Short: "Score a grid of models x benchmarks on a SLURM cluster or with local workers",
		Long: "grid plans a folder of tasks (one per model x benchmark, or per layer group), submits them as\n" +
			"one sbatch job array (or runs them with workers here), reports their state and collects the\n" +
			"leaderboard. Every task records its result in the grid's --db (a SQLite file or a postgres://\n" +
			"URL) under its content key, so running a task twice leaves one row; submit again after\n" +
			"failures runs only the tasks not done.",
	}
	var (
		models, benches, db, cache string
		perTask, bootstrap         int
		seed                       uint64
	)
	plan := &cobra.Command{
		Use:   "plan --models A,B --benchmarks X,Y --out GRID",
		Short: "Write a grid folder with the manifest of its tasks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				return fmt.Errorf("grid plan needs --out GRID")
			}
			m, err := grid.Plan(out, grid.PlanOptions{Models: splitList(models), Benchmarks: splitList(benches),
				LayersPerTask: perTask, Seed: seed, Bootstrap: bootstrap, DB: db, Cache: cache})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "planned %d tasks (%d models x %d benchmarks) in %s; results go to %s\n",
				len(m.Tasks), len(m.Models), len(m.Benchmarks), out, m.DB)
			return nil
		},
	}
	pf := plan.Flags()
	pf.String("out", "", "the grid folder to create")
	pf.StringVar(&models, "models", "", "comma-separated models (zoo names, spec files, run folders, checkpoints)")
	pf.StringVar(&benches, "benchmarks", "", "comma-separated benchmarks (built-in names or spec files)")
	pf.IntVar(&perTask, "layers-per-task", 0, "split each cell into tasks of this many layers (0: one task per cell)")
	pf.Uint64Var(&seed, "seed", 0, "seed for untrained models, the selection split and the bootstrap (as ventral score --seed)")
	pf.IntVar(&bootstrap, "bootstrap", 0, "bootstrap samples (default: each benchmark's)")
	pf.StringVar(&db, "db", "", "results database: a SQLite file or a postgres:// URL (default $VENTRAL_HOME/results.db)")
	pf.StringVar(&cache, "cache", "", "activation cache folder shared by the tasks (default GRID/cache)")

	var so grid.SubmitOptions
	submit := &cobra.Command{
		Use:   "submit GRID --executor slurm|local",
		Short: "Submit the grid's tasks that are not done (slurm: one sbatch job array; local: workers here)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			so.Log = cmd.OutOrStdout()
			_, err := grid.Submit(args[0], so)
			return err
		},
	}
	sf := submit.Flags()
	sf.StringVar(&so.Executor, "executor", "slurm", "slurm or local")
	sf.StringVar(&so.Partition, "partition", "", "slurm partition (default: the cluster's)")
	sf.IntVar(&so.MaxParallel, "max-parallel", 0, "tasks at once (slurm: the array throttle; local: workers, default the CPUs)")
	sf.StringVar(&so.Mem, "mem", "auto", "memory per task: auto (from the plan's estimates), an sbatch size such as 4G, or empty for the partition's default")
	sf.IntVar(&so.CPUs, "cpus", 1, "CPUs per task (slurm --cpus-per-task, and the task's GOMAXPROCS)")
	sf.StringVar(&so.Time, "time", "", "slurm time limit per task (default: the partition's)")
	sf.StringArrayVar(&so.Extra, "sbatch", nil, "another #SBATCH option, verbatim (repeatable), e.g. --sbatch=--account=lab")

	var task int
	run := &cobra.Command{
		Use:   "run GRID --task N",
		Short: "Run one task of the grid (what each array task of submit runs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return grid.RunTask(args[0], task, cmd.OutOrStdout())
		},
	}
	run.Flags().IntVar(&task, "task", -1, "task id (SLURM_ARRAY_TASK_ID)")

	var asJSON bool
	status := &cobra.Command{
		Use:   "status GRID",
		Short: "Show which tasks are done, running, pending or failed (with the reason)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := grid.Status(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			return grid.WriteStatus(cmd.OutOrStdout(), st)
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")

	var collectDB string
	collect := &cobra.Command{
		Use:   "collect GRID",
		Short: "Print the grid's leaderboard from the results database",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, missing, err := grid.Collect(args[0], collectDB)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"board": b, "missing": missing})
			}
			if err := b.WriteTable(out); err != nil {
				return err
			}
			for _, t := range missing {
				fmt.Fprintf(out, "not recorded yet: %s on %s\n", t.Model, t.Benchmark)
			}
			return nil
		},
	}
	collect.Flags().StringVar(&collectDB, "db", "", "read another database than the grid's")
	collect.Flags().BoolVar(&asJSON, "json", false, "print the board as JSON")

	cmd.AddCommand(plan, submit, run, status, collect)
	rootCmd.AddCommand(cmd)
}
