package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// The consistency command on the built-in geirhos-edges spec with an untrained model.
func TestBehaviourConsistencyCLI(t *testing.T) {
	root := mirror.Path(t, "geirhos-edges")
	t.Setenv("VENTRAL_MIRROR", filepath.Dir(root))
	out := t.TempDir()
	log := execute(t, "behaviour", "consistency", "--model", "cifar-cnn", "--out", out, "--threads", "1")
	if !strings.Contains(log, "human-human (45 pairs)") || !strings.Contains(log, "subject-10") {
		t.Fatalf("table: %s", log)
	}
	for _, f := range []string{"consistency.csv", "answers.csv"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}
