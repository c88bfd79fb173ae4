package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A results database that is not a database is reported before scoring, not after the whole
// scoring run has been spent.
func TestScoreChecksDatabaseFirst(t *testing.T) {
	home := t.TempDir()
	t.Setenv("VENTRAL_HOME", home)
	t.Setenv("VENTRAL_MIRROR", filepath.Join(home, "no-mirror")) // scoring would fail on the data
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	notDB := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(spec, []byte(tinySpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notDB, []byte("just text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := executeErr("score", "--model", spec, "--benchmark", "kriegeskorte92-monkeyIT-rsa", "--bootstrap", "40",
		"--db", notDB, "--json=false", "--no-record=false", "--layers=", "--cache=")
	if err == nil || !strings.Contains(err.Error(), notDB) || !strings.Contains(err.Error(), "not a SQLite database") || strings.Contains(out, "best layer") {
		t.Fatalf("err %v\n%s", err, out)
	}
	if _, err := executeErr("score", "--db="); err == nil { // reset the flag for later tests
		t.Log("score without a model accepted?")
	}
}

// eval of an untrained zoo model says it has no weights (pinned: issue 11 listed it among raw
// errors).
func TestEvalUntrainedZooModel(t *testing.T) {
	_, err := executeErr("eval", "--model", "lenet5", "--data", "mnist")
	if err == nil || !strings.Contains(err.Error(), "needs trained weights") || !strings.Contains(err.Error(), "lenet5 has none") {
		t.Fatalf("eval --model lenet5: %v", err)
	}
	executeErr("eval", "--model=")
}

// --bootstrap below the 40 samples a 95% interval needs, or negative, is refused by every
// command that scores benchmarks with the benchmark's count as default, before any work.
func TestBootstrapFlagValidated(t *testing.T) {
	for _, args := range [][]string{
		{"score", "--model", "lenet5", "--benchmark", "kriegeskorte92-monkeyIT-rsa"},
		{"compare", "--models", "lenet5"},
		{"report", "--model", "lenet5"},
		{"quickstart"},
	} {
		for _, n := range []string{"1", "-5"} {
			_, err := executeErr(append(args, "--bootstrap", n)...)
			if err == nil || !strings.Contains(err.Error(), "--bootstrap "+n) || !strings.Contains(err.Error(), "at least 40") {
				t.Errorf("%s --bootstrap %s: %v", args[0], n, err)
			}
		}
	}
	// Reset the flags for later tests in this process.
	for name, flags := range map[string]map[string]string{
		"score":      {"bootstrap": "0", "model": "", "benchmark": ""},
		"compare":    {"bootstrap": "0", "models": ""},
		"report":     {"bootstrap": "0", "model": ""},
		"quickstart": {"bootstrap": "1000"},
	} {
		c, _, err := rootCmd.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range flags {
			if err := c.Flags().Set(f, v); err != nil {
				t.Fatal(err)
			}
		}
	}
}
