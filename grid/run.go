package grid

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/internal/flock"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/train"
)

// Marker is what a task writes about itself in state/: when it started (and where), and how it
// ended.
type Marker struct {
	Task    int       `json:"task"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host,omitempty"`
	PID     int       `json:"pid,omitempty"`
	Job     string    `json:"slurm_job,omitempty"` // SLURM's job id of the array task
	Reason  string    `json:"reason,omitempty"`    // why it failed
	RunID   int64     `json:"run_id,omitempty"`    // the recorded run (done)
	Score   *float64  `json:"score,omitempty"`
	Layer   string    `json:"best_layer,omitempty"`
	Seconds float64   `json:"seconds,omitempty"`
}

func statePath(dir string, id int, kind string) string {
	return filepath.Join(dir, "state", strconv.Itoa(id)+"."+kind)
}

func readMarker(dir string, id int, kind string) (*Marker, bool) {
	b, err := os.ReadFile(statePath(dir, id, kind))
	if err != nil {
		return nil, false
	}
	var m Marker
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	return &m, true
}

func newMarker(id int) *Marker {
	host, _ := os.Hostname()
	m := &Marker{Task: id, Time: time.Now().UTC(), Host: host, PID: os.Getpid()}
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		m.Job = a + "_" + t
	} else {
		m.Job = os.Getenv("SLURM_JOB_ID")
	}
	return m
}

// lockTask takes the task's lock without waiting; busy is true when another process holds it
// (the task is running there). The lock is flock(2): released by the kernel when its holder
// dies, however it dies.
func lockTask(dir string, id int) (unlock func(), busy bool, err error) {
	return flock.Lock(statePath(dir, id, "lock"), false)
}

// HoldEnv names a file that, while it exists, holds every task just after it has marked
// itself started. Tests use it to cancel a task mid-run deterministically; nothing else
// should set it.
const HoldEnv = "VENTRAL_GRID_TEST_HOLD"

// BallastEnv, with HoldEnv, makes a held task hold that many MiB of touched memory as well, so
// that a test can put a task over its memory request for as long as it likes (a real cell may
// finish before SLURM's next memory poll). Nothing else should set it.
const BallastEnv = "VENTRAL_GRID_TEST_BALLAST_MB"

// RunTask runs task id of the grid in dir: it scores the cell (or its layer group), records
// the result and marks the task done. A task already done returns at once; a task whose result
// is already in the database (recorded by a run killed before it could mark itself done) is
// marked done without scoring again. A SIGTERM or SIGINT (scancel, a time limit, preemption)
// marks the task failed with the reason and exits the process with 128+signal: the database
// write is one transaction, so it is either recorded or not at all.
func RunTask(dir string, id int, log io.Writer) (err error) {
	m, err := Load(dir)
	if err != nil {
		return err
	}
	t, err := m.task(id)
	if err != nil {
		return err
	}
	if v := train.Version(); v != m.Ventral {
		return fmt.Errorf("grid: task %d: the grid was planned by ventral %s and this is %s; results would be recorded under another key, so plan a new grid", id, m.Ventral, v)
	}
	// Status probes the lock for an instant; a run holds it throughout. Waiting a little tells
	// the two apart.
	var unlock func()
	busy := true
	for try := 0; busy && try < 20; try++ {
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if unlock, busy, err = lockTask(dir, id); err != nil {
			return fmt.Errorf("grid: task %d: %w", id, err)
		}
	}
	if busy {
		return fmt.Errorf("grid: task %d (%s) is running in another process (lock %s)", id, describe(t), statePath(dir, id, "lock"))
	}
	defer unlock()
	if _, done := readMarker(dir, id, "done"); done {
		fmt.Fprintf(log, "task %d (%s) is done already\n", id, describe(t))
		return nil
	}
	started := newMarker(id)
	os.Remove(statePath(dir, id, "failed"))
	if err := writeJSON(statePath(dir, id, "started"), started); err != nil {
		return fmt.Errorf("grid: task %d: %w", id, err)
	}

	var mu sync.Mutex
	finished := false
	fail := func(reason string) {
		f := newMarker(id)
		f.Reason = reason
		writeJSON(statePath(dir, id, "failed"), f)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		mu.Lock() // held until exit: the task cannot also be marked done
		if !finished {
			fail(fmt.Sprintf("cancelled: received %v (scancel, a time limit or preemption)", s))
			fmt.Fprintf(log, "task %d: %v: marked failed\n", id, s)
		}
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		finished = true
		if err != nil {
			fail(err.Error())
		}
	}()

	if hold := os.Getenv(HoldEnv); hold != "" {
		var ballast []byte
		if mb, err := strconv.Atoi(os.Getenv(BallastEnv)); err == nil && mb > 0 {
			ballast = make([]byte, mb<<20)
			for i := range ballast {
				ballast[i] = 1
			}
		}
		for {
			if _, err := os.Stat(hold); err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		runtime.KeepAlive(ballast)
	}
	start := time.Now()
	done := newMarker(id)
	db, err := results.Open(m.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	e, ok, err := db.Find(t.Key)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(log, "task %d (%s): already recorded as run %d\n", id, describe(t), e.RunID)
	} else {
		if e, err = runCell(dir, m, t, db, log); err != nil {
			return fmt.Errorf("task %d (%s): %w", id, describe(t), err)
		}
	}
	if e.RunID != 0 {
		done.RunID, done.Score, done.Layer = e.RunID, &e.Score, e.BestLayer
	}
	done.Seconds = time.Since(start).Seconds()
	mu.Lock()
	defer mu.Unlock()
	if err := writeJSON(statePath(dir, id, "done"), done); err != nil {
		return fmt.Errorf("grid: task %d: %w", id, err)
	}
	finished = true
	return nil
}

// runCell scores the task. A whole cell is scored and recorded. A layer group scores its
// layers (leaving their activations in the cache) and marks them cached; then, under the cell's
// lock, the group that finds every other group of its cell cached scores the whole cell from the cache and records it.
// The returned entry is zero for a group that did not record.
func runCell(dir string, m *Manifest, t *Task, db *results.DB, log io.Writer) (results.Entry, error) {
	g, err := loadModel(t.Model, m.Seed)
	if err != nil {
		return results.Entry{}, err
	}
	sub := subject.FromGraph(g)
	spec, err := benchmarks.Load(t.Benchmark)
	if err != nil {
		return results.Entry{}, err
	}
	opts := benchmarks.Options{Seed: m.Seed, Bootstrap: m.Bootstrap, CacheDir: m.Cache}
	score := func() (results.Entry, error) {
		opts.Layers = nil
		r, err := benchmarks.Score(sub, spec, opts)
		if err != nil {
			return results.Entry{}, err
		}
		if k := results.KeyOf(r, m.Ventral); k != t.Key {
			return results.Entry{}, fmt.Errorf("the result's key %+v is not the planned %+v (did the model or benchmark change since planning?)", k, t.Key)
		}
		if _, err := db.Record(r, m.Ventral); err != nil {
			return results.Entry{}, fmt.Errorf("recording in %s: %w", m.DB, err)
		}
		e, _, err := db.Find(t.Key)
		fmt.Fprintf(log, "task %d (%s): %s %.4f, recorded as run %d\n", t.ID, describe(t), e.BestLayer, e.Score, e.RunID)
		return e, err
	}
	if t.Groups == 1 {
		return score()
	}
	opts.Layers = t.Layers
	if _, err := benchmarks.Score(sub, spec, opts); err != nil {
		return results.Entry{}, err
	}
	unlock, _, err := flock.Lock(filepath.Join(dir, "state", fmt.Sprintf("cell%d.lock", t.Cell)), true)
	if err != nil {
		return results.Entry{}, err
	}
	defer unlock()
	// Marked under the cell's lock, and the others checked under it, so of two groups that
	// finish together the second to take the lock sees the first.
	if err := writeJSON(statePath(dir, t.ID, "cached"), newMarker(t.ID)); err != nil {
		return results.Entry{}, err
	}
	for _, o := range m.cellTasks(t.Cell) {
		if _, cached := readMarker(dir, o.ID, "cached"); !cached {
			fmt.Fprintf(log, "task %d (%s): layers cached; task %d of the cell is not done yet\n", t.ID, describe(t), o.ID)
			return results.Entry{}, nil
		}
	}
	if e, ok, err := db.Find(t.Key); err != nil || ok {
		return e, err
	}
	return score()
}
