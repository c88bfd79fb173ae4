package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runAnalyze(args ...string) (string, error) {
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(append([]string{"analyze"}, args...))
	err := rootCmd.Execute()
	return out.String(), err
}

func TestAnalyzeCommands(t *testing.T) {
	dir := t.TempDir()
	// Flags keep their values between Execute calls in one process, so every call names all
	// the flags it relies on.
	out, err := runAnalyze("rf", "--model", "lenet5", "--layers", "conv1,pool1,conv2,pool2,fc1", "--effective", "--images", "4", "--out", dir)
	if err != nil {
		t.Fatalf("rf: %v\n%s", err, out)
	}
	for _, want := range []string{"pool2", "global"} {
		if !strings.Contains(out, want) {
			t.Errorf("rf table lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"rf.csv", "rf.png", "rf.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("rf: %s not written", f)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "rf.csv"))
	if !strings.Contains(string(csv), "pool2,maxpool2d,16x5x5,16,") {
		t.Errorf("rf.csv:\n%s", csv)
	}

	out, err = runAnalyze("rf", "--model", "lenet5", "--layers", "conv1,nope", "--out", "")
	if err == nil || !strings.Contains(err.Error(), `no layer "nope"`) || !strings.Contains(err.Error(), "fc3") {
		t.Errorf("unknown layer: got %v\n%s", err, out)
	}

	out, err = runAnalyze("visualize", "--model", "lenet5", "--layers", "conv2", "--n", "2", "--steps", "4", "--out", dir)
	if err != nil {
		t.Fatalf("visualize: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "visualize_conv2.png")); err != nil {
		t.Errorf("visualize grid not written: %v", err)
	}

	out, err = runAnalyze("decode", "--model", "lenet5", "--layers", "pool2,fc3", "--data", "mnist", "--limit", "200", "--folds", "2", "--epochs", "3", "--out", dir)
	if err != nil {
		if strings.Contains(err.Error(), "mnist") {
			t.Skipf("MNIST not available: %v", err)
		}
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if !strings.Contains(out, "fc3") {
		t.Errorf("decode table:\n%s", out)
	}
	for _, f := range []string{"decode.csv", "decode.png", "decode.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("decode: %s not written", f)
		}
	}

	out, err = runAnalyze("lesion", "--model", "lenet5", "--layers", "conv1", "--fractions", "0,1", "--data", "mnist", "--limit", "200", "--out", dir)
	if err != nil {
		t.Fatalf("lesion: %v\n%s", err, out)
	}
	if !strings.Contains(out, "6/6") {
		t.Errorf("lesion table:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "lesion.csv")); err != nil {
		t.Errorf("lesion.csv not written")
	}
}
