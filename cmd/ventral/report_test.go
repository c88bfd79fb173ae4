package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/experiments/hierarchy"
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

// `ventral report --experiment DIR` reports a hierarchy output folder, to --out with its
// figures; a folder that is no experiment output, or --model beside it, is refused.
func TestReportExperiment(t *testing.T) {
	o := &hierarchy.Outcome{Config: hierarchy.Config{Seed: 1, Bootstrap: 40, MaxLayers: 2},
		Benchmarks: []*benchmarks.Spec{{Name: "it", Region: "IT"}},
		Models:     []hierarchy.Model{{Name: "net", Kind: "trained", Layers: 2}}}
	for i, d := range []float64{0, 1} {
		o.Profiles = append(o.Profiles, hierarchy.Profile{Model: "net", Benchmark: "it", Region: "IT", Layer: string(rune('a' + i)), Depth: d, Score: d, CILow: d - 0.1, CIHigh: d + 0.1})
	}
	o.Bests = []hierarchy.Best{{Model: "net", Benchmark: "it", Region: "IT", Layer: "b", Depth: 1, DepthLow: 1, DepthHigh: 1, HeldOut: 0.9, HeldOutNorm: math.NaN(), Score: 1, CILow: 0.9, CIHigh: 1.1}}
	dir := t.TempDir()
	if _, err := o.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "page")
	log := execute(t, "report", "--experiment", dir, "--out", out)
	if !strings.Contains(log, filepath.Join(out, "report.html")) {
		t.Errorf("output %q", log)
	}
	for _, f := range []string{"report.html", "profile-IT.png", "performance_vs_score.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	cmd, _, _ := rootCmd.Find([]string{"report"})
	defer cmd.Flags().Set("experiment", "")
	defer cmd.Flags().Set("out", "")
	if _, err := executeErr("report", "--experiment", t.TempDir()); err == nil || !strings.Contains(err.Error(), "not an experiment output folder") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := executeErr("report", "--experiment", dir, "--model", "cifar-cnn"); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("--model beside --experiment: %v", err)
	}
	cmd.Flags().Set("model", "")
}
