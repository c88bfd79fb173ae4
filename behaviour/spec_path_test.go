package behaviour

import (
	"os"
	"path/filepath"
	"testing"
)

// A spec file in one folder may name its stimuli and trials by absolute paths elsewhere; a
// relative path is taken from the spec's folder.
func TestSpecAbsolutePaths(t *testing.T) {
	specDir, dataDir := t.TempDir(), t.TempDir()
	spec := filepath.Join(specDir, "s.yaml")
	body := "name: s\nstimuli: " + filepath.Join(dataDir, "stim") + "\ntrials: " + filepath.Join(dataDir, "trials", "*.csv") + "\nclass_map: {cat: cat}\n"
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	stim, trials, err := s.locate()
	if err != nil {
		t.Fatal(err)
	}
	if stim != filepath.Join(dataDir, "stim") || trials != filepath.Join(dataDir, "trials", "*.csv") {
		t.Fatalf("absolute paths became %q and %q", stim, trials)
	}
	rel := filepath.Join(specDir, "r.yaml")
	if err := os.WriteFile(rel, []byte("name: r\nstimuli: stim\ntrials: t/*.csv\nclass_map: {cat: cat}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err = LoadSpec(rel); err != nil {
		t.Fatal(err)
	}
	if stim, trials, err = s.locate(); err != nil {
		t.Fatal(err)
	}
	if stim != filepath.Join(specDir, "stim") || trials != filepath.Join(specDir, "t", "*.csv") {
		t.Fatalf("relative paths became %q and %q", stim, trials)
	}
}
