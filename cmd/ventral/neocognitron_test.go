package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/train"
)

func TestTrainNeocognitronCLI(t *testing.T) {
	if _, err := datasets.Load("mnist", "test"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := execute(t, "train-neocognitron", "--out", dir, "--images", "40", "--readout", "200", "--test", "100",
		"--readout-epochs", "2", "--baseline=false", "--seed", "2")
	for _, want := range []string{"s1: epoch 1/1, 40/40 images", "learned: train accuracy", "wrote "} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	ck, err := train.LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Graph.Name != "neocognitron" || !strings.Contains(ck.Graph.Meta["learning"], "40 images") || ck.Meta["test_acc"] == "" {
		t.Errorf("checkpoint: %s %v %v", ck.Graph.Name, ck.Graph.Meta, ck.Meta["test_acc"])
	}
	rootCmd.SetArgs([]string{"train-neocognitron", "--out", dir, "--images", "0"})
	if err := rootCmd.Execute(); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("--images 0: %v", err)
	}
}
