package grid

import (
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/internal/cluster"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/results"
)

// The grids of these tests: three small zoo networks at random weights (seed 0) on the two
// 92-image benchmarks and a third made from the monkey one (euclidean model RDMs), with a
// 40-sample bootstrap: nine cells of about a second each.
var (
	testModels = []string{"lenet5", "cifar-cnn", "resnet10-cifar-w16"}
	bootstrap  = "40"
)

const euclidSpec = `name: k92-monkeyIT-euclidean
version: 1
description: kriegeskorte92-monkeyIT-rsa with euclidean model RDMs (a third benchmark for the grid tests)
region: IT
stimuli:
  set: kriegeskorte92
data:
  kind: rdm
  dataset: kriegeskorte92
  file: Kriegeskorte_Neuron2008_supplementalData.mat
  variable: RDMs_mIT_hIT_fig1(1)
  field: RDM
metric:
  type: rsa
  rdm_distance: euclidean
  comparison: spearman
  bootstrap: 1000
ceiling:
  type: none
`

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ventral builds the ventral binary once for the tests: tasks run it as SLURM or the local
// executor would.
func ventral(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "ventral-grid-bin-"); buildErr != nil {
			return
		}
		os.Chmod(binDir, 0o755)
		binPath = filepath.Join(binDir, "ventral")
		// The go command that runs the tests, when PATH does not name one.
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goCmd, "build", "-o", binPath, "github.com/ventral-lab/ventral/cmd/ventral").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// setup points the tests' processes at the shared data and a private VENTRAL_HOME, and returns
// the three benchmarks.
func setup(t *testing.T) []string {
	mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	mirror.Path(t, "kriegeskorte92/92_brainRDMs.mat")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	spec := filepath.Join(t.TempDir(), "k92-euclid.yaml")
	if err := os.WriteFile(spec, []byte(euclidSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa", spec}
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(ventral(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ventral %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var (
	refResults map[string]*benchmarks.Result
	refTime    time.Duration
)

// reference scores every cell with `ventral score`, one after another, into a SQLite file,
// and returns the results by "model|benchmark" and the time taken (once for the package's
// tests).
func reference(t *testing.T, benches []string) (map[string]*benchmarks.Result, time.Duration) {
	if refResults != nil {
		return refResults, refTime
	}
	db := filepath.Join(t.TempDir(), "sequential.db")
	start := time.Now()
	for _, m := range testModels {
		for _, b := range benches {
			run(t, "score", "--model", m, "--benchmark", b, "--bootstrap", bootstrap, "--db", db)
		}
	}
	refTime = time.Since(start)
	refResults = stored(t, db)
	return refResults, refTime
}

// stored reads every run of a database, by "model|benchmark".
func stored(t *testing.T, where string) map[string]*benchmarks.Result {
	t.Helper()
	d, err := results.Open(where)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := d.Leaderboard()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*benchmarks.Result{}
	for m, row := range b.Cells {
		for bn, e := range row {
			r, err := d.Result(e.RunID)
			if err != nil {
				t.Fatal(err)
			}
			out[m+"|"+bn] = r
		}
	}
	return out
}

// sameScores checks that got holds exactly the cells of want with identical numbers: the best
// layer, the held-out and normalised scores and every layer's score.
func sameScores(t *testing.T, what string, got, want map[string]*benchmarks.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d cells, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no cell %s", what, k)
			continue
		}
		if g.BestLayer != w.BestLayer || g.HeldOut != w.HeldOut || (g.HeldOutNormalized == nil) != (w.HeldOutNormalized == nil) ||
			(g.HeldOutNormalized != nil && *g.HeldOutNormalized != *w.HeldOutNormalized) || len(g.Layers) != len(w.Layers) {
			t.Errorf("%s: %s: best %s %v, want %s %v", what, k, g.BestLayer, g.HeldOut, w.BestLayer, w.HeldOut)
			continue
		}
		for i := range w.Layers {
			if g.Layers[i].Layer != w.Layers[i].Layer || g.Layers[i].Score != w.Layers[i].Score {
				t.Errorf("%s: %s: layer %s %v, want %s %v", what, k, g.Layers[i].Layer, g.Layers[i].Score, w.Layers[i].Layer, w.Layers[i].Score)
			}
		}
	}
}

// waitFor polls the grid's status until cond holds (or fails the test after limit).
func waitFor(t *testing.T, dir string, limit time.Duration, what string, cond func([]TaskStatus) bool) []TaskStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, err := Status(dir)
		if err != nil {
			t.Fatal(err)
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			WriteStatus(&b, st)
			logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
			for _, l := range logs {
				c, _ := os.ReadFile(l)
				fmt.Fprintf(&b, "--- %s\n%s", l, c)
			}
			t.Fatalf("waiting %v for %s:\n%s", limit, what, b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func count(st []TaskStatus, s State) int {
	n := 0
	for _, x := range st {
		if x.State == s {
			n++
		}
	}
	return n
}

func allDone(st []TaskStatus) bool { return count(st, Done) == len(st) }

// collected reads the grid's cells back from its database by their content keys.
func collected(t *testing.T, dir string) map[string]*benchmarks.Result {
	t.Helper()
	b, missing, err := Collect(dir, "")
	if err != nil || len(missing) > 0 {
		t.Fatalf("collect: %v, missing %v", err, missing)
	}
	m, _ := Load(dir)
	d, err := results.Open(m.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]*benchmarks.Result{}
	for model, row := range b.Cells {
		for bn, e := range row {
			r, err := d.Result(e.RunID)
			if err != nil {
				t.Fatal(err)
			}
			out[model+"|"+bn] = r
		}
	}
	return out
}

// rowCounts returns the runs and layer scores in a database, and the runs whose content key
// appears more than once (none, given the unique key; counted, not assumed).
func rowCounts(t *testing.T, where string) (runs, layers, dups int) {
	t.Helper()
	driver, dsn := "sqlite", where
	if results.IsURL(where) {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs)
	db.QueryRow(`SELECT COUNT(*) FROM layer_scores`).Scan(&layers)
	db.QueryRow(`SELECT COUNT(*) FROM (SELECT model_digest, benchmark FROM runs GROUP BY model_digest, model_name, benchmark, benchmark_version, ventral_version, seed HAVING COUNT(*) > 1) d`).Scan(&dups)
	return
}

func layerTotal(rs map[string]*benchmarks.Result) int {
	n := 0
	for _, r := range rs {
		n += len(r.Layers)
	}
	return n
}

// A 3 x 3 grid through sbatch gives exactly the scores of nine sequential `ventral score`
// runs, recorded in PostgreSQL and in SQLite. In the SQLite grid one task is cancelled with
// scancel mid-run: status reports it failed and why, submit again runs that task alone, and
// in the end every cell is recorded once with the sequential scores. A task killed for memory
// is reported so and rerun.
func TestSlurmGridMatchesSequentialRuns(t *testing.T) {
	benches := setup(t)
	slurm := cluster.StartSlurm(t)
	t.Setenv("SLURM_CONF", slurm.Conf)
	pg := cluster.Postgres(t)
	bin := ventral(t)
	want, seqTime := reference(t, benches)
	if len(want) != 9 {
		t.Fatalf("%d sequential results", len(want))
	}

	// PostgreSQL.
	dir := filepath.Join(t.TempDir(), "pg-grid")
	run(t, "grid", "plan", "--models", strings.Join(testModels, ","), "--benchmarks", strings.Join(benches, ","),
		"--bootstrap", bootstrap, "--db", pg, "--out", dir)
	start := time.Now()
	run(t, "grid", "submit", dir, "--executor", "slurm", "--max-parallel", "2")
	waitFor(t, dir, 3*time.Minute, "every task done", allDone)
	gridTime := time.Since(start)
	sameScores(t, "PostgreSQL grid", collected(t, dir), want)
	if runs, layers, dups := rowCounts(t, pg); runs != 9 || dups != 0 || layers != layerTotal(want) {
		t.Errorf("PostgreSQL: %d runs (%d duplicated), %d layer scores; want 9, 0, %d", runs, dups, layers, layerTotal(want))
	}
	t.Logf("nine cells: sequential ventral score %.1fs, slurm grid (2 at once) %.1fs", seqTime.Seconds(), gridTime.Seconds())

	// SQLite, with task 0 cancelled while it runs.
	dir = filepath.Join(t.TempDir(), "sqlite-grid")
	db := filepath.Join(t.TempDir(), "grid.db")
	run(t, "grid", "plan", "--models", strings.Join(testModels, ","), "--benchmarks", strings.Join(benches, ","),
		"--bootstrap", bootstrap, "--db", db, "--out", dir)
	hold := filepath.Join(t.TempDir(), "hold")
	os.WriteFile(hold, nil, 0o644)
	t.Setenv(HoldEnv, hold)
	run(t, "grid", "submit", dir, "--executor", "slurm", "--max-parallel", "2")
	st := waitFor(t, dir, time.Minute, "task 0 running", func(st []TaskStatus) bool {
		_, ok := readMarker(dir, 0, "started")
		return ok && st[0].State == Running
	})
	if out, err := slurm.Command("scancel", st[0].Job).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v\n%s", st[0].Job, err, out)
	}
	os.Remove(hold)
	st = waitFor(t, dir, 3*time.Minute, "the other tasks done", func(st []TaskStatus) bool {
		return count(st, Done) == len(st)-1 && st[0].State == Failed
	})
	if !strings.Contains(st[0].Reason, "cancelled") {
		t.Errorf("task 0 failed with reason %q, want it to say cancelled", st[0].Reason)
	}
	var b strings.Builder
	WriteStatus(&b, st)
	if !strings.Contains(b.String(), "1 failed") || !strings.Contains(b.String(), "cancelled") {
		t.Errorf("status says:\n%s", b.String())
	}
	os.Unsetenv(HoldEnv)
	out := run(t, "grid", "submit", dir, "--executor", "slurm")
	if !strings.Contains(out, "submitted 1 tasks") {
		t.Errorf("the second submit: %q, want one task", out)
	}
	subs := loadSubmissions(dir)
	if len(subs) != 2 || !slices.Equal(subs[1].Tasks, []int{0}) {
		t.Errorf("submissions %+v, want the second of task 0 alone", subs)
	}
	waitFor(t, dir, 2*time.Minute, "every task done", allDone)
	sameScores(t, "SQLite grid", collected(t, dir), want)
	if runs, layers, dups := rowCounts(t, db); runs != 9 || dups != 0 || layers != layerTotal(want) {
		t.Errorf("SQLite: %d runs (%d duplicated), %d layer scores; want 9, 0, %d", runs, dups, layers, layerTotal(want))
	}
	// A third submit has nothing to do.
	if out := run(t, "grid", "submit", dir, "--executor", "slurm"); !strings.Contains(out, "nothing to submit") {
		t.Errorf("a submit of a finished grid: %q", out)
	}

	// A task over its memory request is killed by SLURM (here by polling, as cgroups would):
	// status says out of memory; submitted again with the estimate, it gives the sequential score.
	dir = filepath.Join(t.TempDir(), "oom-grid")
	db = filepath.Join(t.TempDir(), "oom.db")
	run(t, "grid", "plan", "--models", testModels[0], "--benchmarks", benches[0], "--bootstrap", bootstrap, "--db", db, "--out", dir)
	// Held with 200 MiB of ballast until it is killed: a lenet5 cell alone can finish before
	// the next memory poll.
	os.WriteFile(hold, nil, 0o644)
	t.Setenv(HoldEnv, hold)
	t.Setenv(BallastEnv, "200")
	run(t, "grid", "submit", dir, "--executor", "slurm", "--mem", "30M")
	st = waitFor(t, dir, time.Minute, "the task killed", func(st []TaskStatus) bool { return st[0].State == Failed })
	os.Remove(hold)
	os.Unsetenv(HoldEnv)
	os.Unsetenv(BallastEnv)
	if !strings.Contains(st[0].Reason, "out of memory") {
		t.Errorf("a task over its memory failed with reason %q, want out of memory", st[0].Reason)
	}
	run(t, "grid", "submit", dir, "--executor", "slurm", "--mem", "auto")
	waitFor(t, dir, time.Minute, "the task done", allDone)
	got := collected(t, dir)
	k := testModels[0] + "|" + benches[0]
	sameScores(t, "after out of memory", got, map[string]*benchmarks.Result{k: want[k]})
	_ = bin
}

// Two grids at once on one activation cache and one database, overlapping in a benchmark
// (so their tasks need the same activations and record the same cells) and one of them split
// by layer groups: every cache entry verifies, nothing half-written is left, and the database
// holds each cell once with the sequential scores.
func TestConcurrentGridsShareCacheAndDatabase(t *testing.T) {
	benches := setup(t)
	want, _ := reference(t, benches)
	cache := filepath.Join(t.TempDir(), "cache")
	db := filepath.Join(t.TempDir(), "shared.db")
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	run(t, "grid", "plan", "--models", strings.Join(testModels, ","), "--benchmarks", benches[0]+","+benches[1],
		"--bootstrap", bootstrap, "--db", db, "--cache", cache, "--out", a)
	run(t, "grid", "plan", "--models", strings.Join(testModels, ","), "--benchmarks", benches[1]+","+benches[2],
		"--bootstrap", bootstrap, "--db", db, "--cache", cache, "--layers-per-task", "20", "--out", b)
	if mb, err := Load(b); err != nil || len(mb.Tasks) <= 6 {
		t.Fatalf("grid b: %v; want resnet10-cifar-w16's cells split in layer groups", err)
	}
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i, dir := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = exec.Command(ventral(t), "grid", "submit", dir, "--executor", "local", "--max-parallel", "2").CombinedOutput()
		}()
	}
	wg.Wait()
	for i, dir := range []string{a, b} {
		if errs[i] != nil {
			t.Fatalf("submit %s: %v\n%s", dir, errs[i], outs[i])
		}
		waitFor(t, dir, 5*time.Second, "every task done", allDone)
	}
	got := collected(t, a)
	for k, v := range collected(t, b) {
		got[k] = v
	}
	sameScores(t, "two grids", got, want)
	if runs, layers, dups := rowCounts(t, db); runs != 9 || dups != 0 || layers != layerTotal(want) {
		t.Errorf("%d runs (%d duplicated), %d layer scores; want 9, 0, %d", runs, dups, layers, layerTotal(want))
	}
	// A task run again leaves the database as it was: done, it returns at once; with its done
	// marker lost (killed between recording and marking), it finds its row and does not score.
	if out := run(t, "grid", "run", a, "--task", "0"); !strings.Contains(out, "done already") {
		t.Errorf("rerunning a done task: %q", out)
	}
	os.Remove(statePath(a, 0, "done"))
	if out := run(t, "grid", "run", a, "--task", "0"); !strings.Contains(out, "already recorded") {
		t.Errorf("rerunning a recorded task: %q", out)
	}
	if runs, _, _ := rowCounts(t, db); runs != 9 {
		t.Errorf("%d runs after rerunning a task, want 9", runs)
	}
	entries := 0
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
		case strings.HasPrefix(d.Name(), ".tmp"):
			t.Errorf("half-written cache file left: %s", p)
		case strings.HasSuffix(p, ".act"):
			entries++
			r, err := activations.Open(p)
			if err != nil {
				t.Errorf("cache entry: %v", err)
			} else {
				r.Close()
			}
		}
		return nil
	})
	if entries == 0 {
		t.Error("the cache is empty")
	}
}
