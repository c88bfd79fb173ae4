package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/models"
)

func init() {
	var spec string
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the built-in models, or print one as a spec file (--spec NAME)",
		RunE: func(c *cobra.Command, _ []string) error {
			if spec != "" {
				g, err := models.Get(spec)
				if err != nil {
					return err
				}
				y, err := g.SpecYAML()
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(y)
				return err
			}
			for _, name := range models.Names() {
				fmt.Printf("%-22s %s\n", name, models.Doc(name))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spec, "spec", "", "print this model's spec file")
	cmd.AddCommand(inspectCmd())
	rootCmd.AddCommand(cmd)
}
