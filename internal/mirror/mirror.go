// Package mirror finds the shared read-only data mirror for tests.
//
// Tests that need real data call Path; when the mirror lacks the file they fail under CI (the
// CI environment variable is set) and skip elsewhere, so a missing mirror can never pass CI silently.
package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mirrors returns the mirror folders: $VENTRAL_MIRROR (colon-separated) and then a
// shared/datasets folder found beside any parent of the working directory.
func Mirrors() []string {
	var out []string
	for _, d := range strings.Split(os.Getenv("VENTRAL_MIRROR"), ":") {
		if d != "" {
			out = append(out, d)
		}
	}
	wd, err := os.Getwd()
	if err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			cand := filepath.Join(dir, "shared", "datasets")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				out = append(out, cand)
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return out
}

// Path returns the path of rel (e.g. "kriegeskorte92/92_brainRDMs.mat") in the first mirror that
// has it. Missing data fails the test under CI and skips it otherwise.
func Path(t testing.TB, rel string) string {
	t.Helper()
	for _, m := range Mirrors() {
		p := filepath.Join(m, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("shared data %s not found in mirrors %v (set VENTRAL_MIRROR)", rel, Mirrors())
	}
	t.Skipf("shared data %s not found in mirrors %v", rel, Mirrors())
	return ""
}
