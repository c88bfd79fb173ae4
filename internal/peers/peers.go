// Package peers finds the independent programs tests compare against (Debian's python3 with
// numpy, scipy, h5py, netCDF4, xarray...). Like internal/mirror for data, a missing peer fails
// the test under CI (the CI environment variable is set) and skips it elsewhere, so a missing
// oracle can never pass CI silently.
package peers

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// PythonPath is the system python the tests use: Debian's packages install there, and a
// python3 earlier on PATH may lack them.
const PythonPath = "/usr/bin/python3"

// Python returns PythonPath when it imports every module named (e.g. "numpy", "h5py").
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	imports := "import " + strings.Join(modules, ", ")
	if len(modules) == 0 {
		imports = "pass"
	}
	if out, err := exec.CommandContext(ctx, PythonPath, "-c", imports).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot %q: %v\n%s", PythonPath, imports, err, out)
		}
		t.Skipf("%s cannot %q: %v", PythonPath, imports, err)
	}
	return PythonPath
}
