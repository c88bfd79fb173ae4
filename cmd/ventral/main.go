// Command ventral trains, evaluates and scores models of the visual system.
//
// Subcommands live in their own files and add themselves to rootCmd in init.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "ventral",
	Short:         "Train CNNs as models of the visual system and compare them with brains",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ventral:", err)
		os.Exit(1)
	}
}
