package main

import (
	"fmt"
	"runtime"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ventral-lab/ventral/tensor"
)

// countFlags are integer flags that count something (images, steps, epochs): a negative value
// has no meaning and used to be taken as "all" or ignored.
var countFlags = map[string]bool{
	"limit": true, "test-limit": true, "images": true, "warmup": true, "epochs": true, "batch": true, "crop": true,
}

// maxThreads bounds --threads: 16 goroutines per core of this machine. More only adds
// scheduling overhead (GEMM splits its work per thread), and a value such as 1000 is a typo.
func maxThreads() int { return 16 * runtime.NumCPU() }

// checkFlags validates the integer flags every command shares by name, before the command runs.
// A bad $VENTRAL_KERNELS stops every command, so no figure is measured at a level not asked for.
func checkFlags(cmd *cobra.Command, _ []string) error {
	if err := tensor.KernelEnvError(); err != nil {
		return err
	}
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Value.Type() != "int" {
			return
		}
		n, perr := strconv.Atoi(f.Value.String())
		if perr != nil {
			return
		}
		switch {
		case f.Name == "threads" && (n < 0 || n > maxThreads()):
			err = fmt.Errorf("--threads %d: expected 0 (all cores) to %d (16 per core of this machine's %d)", n, maxThreads(), runtime.NumCPU())
		case countFlags[f.Name] && n < 0:
			err = fmt.Errorf("--%s %d: expected a count, 0 or more", f.Name, n)
		}
	})
	return err
}

func init() { rootCmd.PersistentPreRunE = checkFlags }
