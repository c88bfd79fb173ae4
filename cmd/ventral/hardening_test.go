package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// resetFlags puts every flag of every command back to its default and unset state: rootCmd is
// shared by the tests, and cobra keeps the values and Changed marks of earlier executions.
func resetFlags(c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if !f.Changed {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			def := strings.Trim(f.DefValue, "[]")
			var items []string
			if def != "" {
				items = strings.Split(def, ",")
			}
			sv.Replace(items)
		} else {
			f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

// run executes the CLI from clean flags and returns its output and error.
func run(args ...string) (string, error) {
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

// TestBadNumericFlags: values that mean nothing are refused with the flag named, before any
// data is loaded.
func TestBadNumericFlags(t *testing.T) {
	t.Cleanup(func() { resetFlags(rootCmd) })
	out := t.TempDir()
	// Were a check missing, keep what would run small (a later flag overrides an earlier one).
	small := []string{"--epochs", "1", "--limit", "64", "--test-limit", "64", "--overwrite"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "lenet5", "--out", out, "--threads", "-1"}, "--threads -1"},
		{[]string{"train", "--model", "lenet5", "--out", out, "--threads", "100000"}, "--threads 100000"},
		{[]string{"train", "--model", "lenet5", "--out", out, "--warmup", "-10"}, "--warmup -10"},
		{[]string{"train", "--model", "lenet5", "--out", out, "--test-limit", "-1"}, "--test-limit -1"},
		{[]string{"train", "--model", "lenet5", "--out", out, "--limit", "-5"}, "--limit -5"},
		{[]string{"eval", "--model", "lenet5", "--threads", "-2"}, "--threads -2"},
		{[]string{"analyze", "rf", "--model", "lenet5", "--images", "-5"}, "--images -5"},
		{[]string{"analyze", "rf", "--model", "lenet5", "--mass", "2"}, "mass 2"},
		{[]string{"analyze", "rf", "--model", "lenet5", "--effective", "--mass", "-0.5"}, "mass -0.5"},
	} {
		args := c.args
		if args[0] == "train" {
			args = append(append(append([]string(nil), args[:5]...), small...), args[5:]...)
		}
		_, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ventral %s: %v (want an error with %q)", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestResumeRefusesConflictingFlags: --resume keeps the run's model and hyper-parameters, so
// flags that would change them are an error saying so (they used to be ignored silently).
func TestResumeRefusesConflictingFlags(t *testing.T) {
	t.Cleanup(func() { resetFlags(rootCmd) })
	out := t.TempDir()
	for _, c := range [][]string{
		{"--lr", "0.5"}, {"--model", "lenet5"}, {"--optimizer", "adam"}, {"--batch", "32"},
		{"--seed", "3"}, {"--schedule", "cosine"}, {"--weight-decay", "0.1"}, {"--flip"}, {"--warmup", "10"},
	} {
		_, err := run(append([]string{"train", "--resume", "--out", out}, c...)...)
		if err == nil || !strings.Contains(err.Error(), c[0]) || !strings.Contains(err.Error(), "keeps") {
			t.Errorf("--resume %s: %v", strings.Join(c, " "), err)
		}
	}
}

// TestTrainRecipeDefaults: a zoo model's recipe fills every training flag left unset, flags
// given on the command line win, and the recipe is printed.
func TestTrainRecipeDefaults(t *testing.T) {
	t.Cleanup(func() { resetFlags(rootCmd) })
	resetFlags(rootCmd)
	cmd, _, err := rootCmd.Find([]string{"train"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(model string, args []string, want map[string]string) {
		t.Helper()
		resetFlags(rootCmd)
		f := cmd.Flags()
		if err := f.Parse(append([]string{"--model", model}, args...)); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		if err := applyRecipe(f, model, &log); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got := f.Lookup(k).Value.String(); got != v {
				t.Errorf("%s %v: --%s = %s, want %s", model, args, k, got, v)
			}
		}
		if !strings.Contains(log.String(), "recipe") || !strings.Contains(log.String(), model) {
			t.Errorf("recipe not printed: %q", log.String())
		}
	}
	// README: lenet5 sgd nesterov lr 0.1 wd 5e-4 cosine warmup 200 batch 64.
	check("lenet5", []string{"--data", "mnist", "--epochs", "2"}, map[string]string{
		"optimizer": "sgd", "nesterov": "true", "lr": "0.1", "weight-decay": "0.0005", "schedule": "cosine",
		"warmup": "200", "batch": "64", "epochs": "2", "momentum": "0.9", "flip": "false", "crop": "0"})
	check("lenet5", []string{"--lr", "0.02", "--warmup", "0", "--nesterov=false"}, map[string]string{
		"lr": "0.02", "warmup": "0", "nesterov": "false", "weight-decay": "0.0005", "schedule": "cosine"})
	// README: cifar-cnn sgd nesterov lr 0.05 wd 5e-4 cosine warmup 300 flip crop 4 batch 128.
	check("cifar-cnn", []string{"--data", "cifar10"}, map[string]string{
		"optimizer": "sgd", "nesterov": "true", "lr": "0.05", "weight-decay": "0.0005", "schedule": "cosine",
		"warmup": "300", "batch": "128", "flip": "true", "crop": "4", "epochs": "15"})
	// A model without a recipe keeps the flag defaults and says so.
	resetFlags(rootCmd)
	f := cmd.Flags()
	f.Parse([]string{"--model", "alexnet"})
	var log bytes.Buffer
	if err := applyRecipe(f, "alexnet", &log); err != nil || f.Lookup("lr").Value.String() != "0" || f.Lookup("schedule").Value.String() != "constant" {
		t.Errorf("alexnet: %v lr %s", err, f.Lookup("lr").Value.String())
	}
}
