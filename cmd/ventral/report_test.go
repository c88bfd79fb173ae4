package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `ventral report` on a spec file (random weights) with only the sections that need no data:
// it prints each section's state and writes the page with its figure.
func TestReportCommand(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "mlp.yaml")
	if err := os.WriteFile(spec, []byte(mlpSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	log := execute(t, "report", "--model", spec, "--quick", "--sections", "model,training,rf", "--out", out)
	for _, want := range []string{"model         ok", "training      skipped", "rf            ok", filepath.Join(out, "report.html")} {
		if !strings.Contains(log, want) {
			t.Errorf("output lacks %q:\n%s", want, log)
		}
	}
	for _, f := range []string{"report.html", "receptive_fields.png", "receptive_fields.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	cmd, _, err := rootCmd.Find([]string{"report"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().Set("model", "") // flags keep their values between executions
	rootCmd.SetArgs([]string{"report", "--out", out})
	if err := rootCmd.Execute(); err == nil || !strings.Contains(err.Error(), "--model is required") {
		t.Errorf("no --model: %v", err)
	}
}
