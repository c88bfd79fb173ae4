package grid

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArrayIndices(t *testing.T) {
	for _, c := range []struct {
		ids  []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{3, 0, 1, 2}, "0-3"},
		{[]int{0, 1, 2, 3, 7, 9, 10}, "0-3,7,9-10"},
		{[]int{5, 2}, "2,5"},
	} {
		if got := ArrayIndices(c.ids); got != c.want {
			t.Errorf("ArrayIndices(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
}

// The sbatch script asks for the largest task's memory with a margin, throttles the array, and
// runs each array task through `ventral grid run`, quoting paths for the shell.
func TestScript(t *testing.T) {
	m := &Manifest{Tasks: []Task{{ID: 0, MemMB: 400}, {ID: 1, MemMB: 1000}, {ID: 2, MemMB: 5000}}}
	s, err := Script("/lab/grids/it's", m, []int{0, 1}, SubmitOptions{MaxParallel: 4, Mem: "auto", CPUs: 2,
		Partition: "gpu", Time: "1:00:00", Extra: []string{"--account=lab"}, Ventral: "/opt/ventral/bin/ventral"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --array=0-1%4\n",
		"#SBATCH --mem=1500M\n", // 1000 MiB + half; task 2 is not submitted
		"#SBATCH --cpus-per-task=2\n",
		"#SBATCH --partition=gpu\n",
		"#SBATCH --time=1:00:00\n",
		"#SBATCH --account=lab\n",
		"#SBATCH --output=/lab/grids/it's/logs/%A_%a.out\n",
		"export GOMAXPROCS=${SLURM_CPUS_PER_TASK:-2}\n",
		`exec '/opt/ventral/bin/ventral' grid run '/lab/grids/it'\''s' --task "$SLURM_ARRAY_TASK_ID"` + "\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if _, err := Script("/g", m, []int{0}, SubmitOptions{Mem: "4G\n#SBATCH --x"}); err == nil {
		t.Error("a --mem spanning lines was accepted")
	}
}

// SLURM's own words in a task's log become the failure reason.
func TestReasonFromLog(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ log, want string }{
		{"x\nslurmstepd: error: *** JOB 12 ON node1 CANCELLED AT 2026-12-03T13:18:36 ***\n", "cancelled (scancel)"},
		{"slurmstepd: error: *** JOB 12 ON node1 CANCELLED AT 2026-12-03T13:18:36 DUE TO TIME LIMIT ***\n", "time limit reached"},
		{"slurmstepd: error: Detected 1 oom-kill event(s) in StepId=12.batch.\n", "out of memory"},
		{"*** JOB 12 ON node1 CANCELLED AT 2026-12-03 DUE TO NODE FAILURE ***\n", "node failure"},
		{"scoring...\nventral: grid: task 3: benchmark x: no such file\n", "ventral: grid: task 3: benchmark x: no such file"},
	} {
		p := filepath.Join(dir, "log")
		os.WriteFile(p, []byte(c.log), 0o644)
		if got := reasonFromLog(p); got != c.want {
			t.Errorf("log %q: reason %q, want %q", c.log, got, c.want)
		}
	}
	if got := reasonFromLog(filepath.Join(dir, "none")); got != "" {
		t.Errorf("missing log: %q", got)
	}
}

// Plan refuses what would fail on the cluster later, naming it; Load refuses a manifest it
// cannot trust.
func TestPlanAndLoadErrors(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	dir := t.TempDir()
	for _, c := range []struct {
		o    PlanOptions
		want string
	}{
		{PlanOptions{Benchmarks: []string{"b"}}, "at least one model"},
		{PlanOptions{Models: []string{"lenet5", "lenet5"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa"}}, `model "lenet5" listed twice`},
		{PlanOptions{Models: []string{"lenet5"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa"}, LayersPerTask: -1}, "--layers-per-task -1"},
		{PlanOptions{Models: []string{"lenet5"}, Benchmarks: []string{"no-such-benchmark"}}, "no-such-benchmark"},
		{PlanOptions{Models: []string{"no-such-model"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa"}}, "no-such-model"},
	} {
		if _, err := Plan(filepath.Join(dir, "g"), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.o, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "g", ManifestFile)); err == nil {
		t.Error("a failed plan wrote a manifest")
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "grid plan") {
		t.Errorf("Load of an empty folder: %v", err)
	}
	bad, _ := json.Marshal(Manifest{Format: FormatVersion, Tasks: []Task{{ID: 1, Model: "m", Benchmark: "b", Groups: 1}}})
	os.WriteFile(filepath.Join(dir, ManifestFile), bad, 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "task 0 is malformed") {
		t.Errorf("Load of a manifest with a misnumbered task: %v", err)
	}
}

// A planned grid: one task per cell with the content key Record will use, estimates that
// grow with the work, and groups that cover every layer once.
func TestPlan(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "g")
	m, err := Plan(dir, PlanOptions{Models: []string{"lenet5", "cifar-cnn"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa"}, Seed: 3, LayersPerTask: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Load(dir); err != nil || len(again.Tasks) != len(m.Tasks) {
		t.Fatalf("reloaded: %v", err)
	}
	if _, err := Plan(dir, PlanOptions{Models: []string{"lenet5"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa"}}); err == nil || !strings.Contains(err.Error(), "already holds a grid") {
		t.Errorf("planning over a grid: %v", err)
	}
	cells := map[int][]string{}
	for _, task := range m.Tasks {
		if task.Key.Seed != 3 || task.Key.Benchmark != "kriegeskorte92-monkeyIT-rsa" || task.Key.Version != 1 || len(task.Key.ModelDigest) == 0 {
			t.Errorf("task %d: key %+v", task.ID, task.Key)
		}
		if task.MemMB < 300 || task.Seconds <= 0 {
			t.Errorf("task %d: estimate %d MiB %.1fs", task.ID, task.MemMB, task.Seconds)
		}
		if len(task.Layers) == 0 || len(task.Layers) > 3 {
			t.Errorf("task %d: %d layers, want 1 to 3", task.ID, len(task.Layers))
		}
		cells[task.Cell] = append(cells[task.Cell], task.Layers...)
	}
	if len(cells) != 2 {
		t.Fatalf("%d cells, want 2", len(cells))
	}
	for c, ls := range cells {
		seen := map[string]bool{}
		for _, l := range ls {
			if seen[l] {
				t.Errorf("cell %d: layer %s in two groups", c, l)
			}
			seen[l] = true
		}
	}
	if m.Tasks[0].Key.ModelDigest == m.Tasks[len(m.Tasks)-1].Key.ModelDigest {
		t.Error("two models share a digest")
	}
}

// Status reads each task's markers, lock and log: done; running while another process holds
// the task's lock; failed with the task's own reason, or, for a task that started and vanished
// without a word, with what SLURM wrote in its log; not run.
func TestStatusReasons(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	t.Setenv("SLURM_CONF", "") // restored after the test
	os.Unsetenv("SLURM_CONF")  // squeue finds no cluster and fails at once
	dir := filepath.Join(t.TempDir(), "g")
	if _, err := Plan(dir, PlanOptions{Models: []string{"lenet5"}, Benchmarks: []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa"}, LayersPerTask: 4}); err != nil {
		t.Fatal(err)
	}
	m, _ := Load(dir)
	if len(m.Tasks) < 5 {
		t.Fatalf("%d tasks, want at least 5", len(m.Tasks))
	}
	score := 0.25
	writeJSON(statePath(dir, 0, "done"), &Marker{Task: 0, Score: &score, Layer: "fc1"})
	unlock, busy, err := lockTask(dir, 1)
	if err != nil || busy {
		t.Fatal(err, busy)
	}
	defer unlock()
	writeJSON(statePath(dir, 2, "started"), &Marker{Task: 2})
	writeJSON(statePath(dir, 2, "failed"), &Marker{Task: 2, Reason: "benchmark x: no such file"})
	writeJSON(statePath(dir, 3, "started"), &Marker{Task: 3})
	recordSubmission(dir, &Submission{Executor: "slurm", Job: "41", Tasks: []int{2, 3}})
	os.WriteFile(filepath.Join(dir, "logs", "41_3.out"), []byte("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=44.batch.\n"), 0o644)
	// Status probes locks with flock: a lock held through another open file of this process
	// counts as held, as another process's would.
	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		state  State
		reason string
	}{{Done, ""}, {Running, ""}, {Failed, "benchmark x: no such file"}, {Failed, "stopped without a report: out of memory"}, {NotRun, ""}}
	for i, w := range want {
		if st[i].State != w.state || !strings.Contains(st[i].Reason, w.reason) {
			t.Errorf("task %d: %s %q, want %s %q", i, st[i].State, st[i].Reason, w.state, w.reason)
		}
	}
	if st[0].Score == nil || *st[0].Score != 0.25 || st[3].Job != "41_3" {
		t.Errorf("task 0 score %v, task 3 job %q", st[0].Score, st[3].Job)
	}
	var b strings.Builder
	WriteStatus(&b, st)
	if !strings.Contains(b.String(), "1 done, 1 running, 0 pending, 2 failed") {
		t.Errorf("status:\n%s", b.String())
	}
}
