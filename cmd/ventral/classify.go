package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/stimuli"
)

func init() {
	var (
		model, images string
		top           int
		asJSON        bool
		seed          uint64
	)
	cmd := &cobra.Command{
		Use:   "classify",
		Short: "Print a model's top-K classes for each image of a stimulus set, folder or zip",
		Example: "  ventral classify --model mobilenetv2-imagenet-onnx --images kriegeskorte92 --top 5\n" +
			"  ventral classify --model net.onnx --images photos/ --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if images == "" {
				return fmt.Errorf("--images is required (a built-in stimulus set such as kriegeskorte92, a folder or a .zip of images)")
			}
			g, err := builtModel(model, seed)
			if err != nil {
				return err
			}
			set, err := imageSet(images)
			if err != nil {
				return err
			}
			defer set.Close()
			c, err := behaviour.NewClassifier(g)
			if err != nil {
				return err
			}
			res, err := c.Classify(set, top)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			for _, r := range res {
				parts := make([]string, len(r.Top))
				for i, g := range r.Top {
					l := g.Label
					if l == "" {
						l = fmt.Sprintf("class %d", g.Index)
					}
					parts[i] = fmt.Sprintf("%s (%d) %.3f", l, g.Index, g.P)
				}
				fmt.Fprintf(w, "%s\t%s\n", r.ID, strings.Join(parts, "; "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model: "+modelHelp())
	f.StringVar(&images, "images", "", "images: a built-in stimulus set (kriegeskorte92), a folder or a .zip")
	f.IntVar(&top, "top", 5, "classes per image")
	f.BoolVar(&asJSON, "json", false, `print JSON: [{"id": ..., "top": [{"index": i, "label": ..., "p": ...}]}]`)
	f.Uint64Var(&seed, "seed", 1, "seed of an untrained model's weights")
	rootCmd.AddCommand(cmd)

}

// inspectCmd is `ventral models inspect`.
func inspectCmd() *cobra.Command {
	var (
		asJSON bool
		seed   uint64
	)
	insp := &cobra.Command{
		Use:   "inspect NAME|PATH",
		Short: "Show a model's layers, output shapes, parameter counts, operators and preprocessing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := builtModel(args[0], seed)
			if err != nil {
				return err
			}
			s, err := models.Summarize(g)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return s.WriteText(cmd.OutOrStdout())
		},
	}
	insp.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	insp.Flags().Uint64Var(&seed, "seed", 1, "seed of an untrained model's weights")
	return insp
}

// imageSet opens --images: a built-in stimulus set, a folder or a zip of images.
func imageSet(arg string) (*stimuli.Set, error) {
	switch arg {
	case "kriegeskorte92":
		return stimuli.Kriegeskorte92()
	}
	st, err := os.Stat(arg)
	switch {
	case err == nil && st.IsDir():
		return stimuli.FromFolder(filepath.Base(arg), arg)
	case err == nil && strings.EqualFold(filepath.Ext(arg), ".zip"):
		return stimuli.FromZip(strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg)), arg)
	case err != nil:
		return nil, fmt.Errorf("--images %s: not a built-in stimulus set (kriegeskorte92) and %w", arg, err)
	}
	return nil, fmt.Errorf("--images %s: expected a built-in stimulus set (kriegeskorte92), a folder or a .zip of images", arg)
}
