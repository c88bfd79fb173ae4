package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/results"
)

func init() {
	var dbPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "leaderboard",
		Short: "Show models x benchmarks: the best-layer score of each model's latest run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbPath := dbPath
			if dbPath == "" {
				dbPath = results.DefaultPath()
			}
			db, err := results.Open(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			b, err := db.Leaderboard()
			if err != nil {
				return err
			}
			if asJSON {
				js, err := json.MarshalIndent(b, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(js))
				return nil
			}
			if len(b.Models) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no results in %s yet (run ventral score)\n", dbPath)
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), "normalised score (raw in brackets where the benchmark has no ceiling) and best layer")
			return b.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "results database: a SQLite file or a postgres:// URL (default $VENTRAL_HOME/results.db)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rootCmd.AddCommand(cmd)
}
