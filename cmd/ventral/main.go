// Command ventral trains, evaluates and scores models of the visual system.
//
// Subcommands live in their own files and add themselves to rootCmd in init.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "ventral",
	Short:         "Train CNNs as models of the visual system and compare them with brains",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// splitList splits a comma-separated flag value, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ventral:", err)
		os.Exit(1)
	}
}

// parseSeeds reads a --seeds flag: comma-separated unsigned integers ("" gives none).
func parseSeeds(list string) ([]uint64, error) {
	var out []uint64
	for _, f := range splitList(list) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds: %q is not a non-negative integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}
