// Command ventral trains, evaluates and scores models of the visual system.
//
// Subcommands live in their own files and add themselves to rootCmd in init.
package main

import (
	"fmt"
	"os"
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
