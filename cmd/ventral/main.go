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

// parseList reads a comma-separated flag with parse for each item ("" gives none); a bad item
// is reported as "--NAME: "ITEM" is not WHAT".
func parseList[T any](name, list, what string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range splitList(list) {
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not %s", name, f, what)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseFloats reads a comma-separated list of numbers from flag --name.
func parseFloats(name, list string) ([]float64, error) {
	return parseList(name, list, "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// parseSeeds reads a --seeds flag: comma-separated unsigned integers ("" gives none).
func parseSeeds(list string) ([]uint64, error) {
	return parseList("seeds", list, "a non-negative integer", func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
}
