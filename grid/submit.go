package grid

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ventral-lab/ventral/internal/flock"
)

// SubmitOptions configure Submit.
type SubmitOptions struct {
	Executor    string // "slurm" or "local"
	Partition   string // slurm: the partition (default: the cluster's)
	MaxParallel int    // tasks at once (slurm: the array's %N throttle; local: workers, default the CPUs)
	// Mem is slurm's memory request per task: "auto" (the largest task estimate plus half),
	// "" (the partition's default) or an sbatch --mem value such as 4G.
	Mem     string
	CPUs    int      // slurm: --cpus-per-task (default 1); also the task's GOMAXPROCS
	Time    string   // slurm: --time (default: the partition's)
	Extra   []string // slurm: more #SBATCH options, verbatim
	Ventral string   // the ventral binary the tasks run (default: this one)
	Log     io.Writer
}

// Submission is one submit of a grid, appended to submissions.json.
type Submission struct {
	Executor string    `json:"executor"`
	Job      string    `json:"job,omitempty"` // slurm's array job id
	Tasks    []int     `json:"tasks"`
	Time     time.Time `json:"time"`
	Script   string    `json:"script,omitempty"`
}

const submissionsFile = "submissions.json"

func loadSubmissions(dir string) []Submission {
	var subs []Submission
	if b, err := os.ReadFile(filepath.Join(dir, submissionsFile)); err == nil {
		jsonUnmarshal(b, &subs)
	}
	return subs
}

// Submit runs the grid's tasks that are not done, running or queued: with slurm, as one sbatch
// job array whose tasks run `ventral grid run DIR --task $SLURM_ARRAY_TASK_ID` (it returns once
// sbatch has queued it); with local, as the same commands on MaxParallel workers here (it
// returns when they have all ended). A second submit after failures runs only what is left.
func Submit(dir string, o SubmitOptions) (*Submission, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Ventral == "" {
		if o.Ventral, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("grid: cannot find this ventral binary for the tasks: %w", err)
		}
	}
	if o.MaxParallel < 0 || o.CPUs < 0 {
		return nil, fmt.Errorf("grid: --max-parallel and --cpus must not be negative")
	}
	st, err := Status(dir)
	if err != nil {
		return nil, err
	}
	var todo []int
	for _, s := range st {
		switch s.State {
		case Done, Running, Pending:
		default:
			todo = append(todo, s.Task.ID)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(o.Log, "grid %s: nothing to submit (every task is done, running or queued)\n", dir)
		return nil, nil
	}
	sub := &Submission{Executor: o.Executor, Tasks: todo, Time: time.Now().UTC()}
	switch o.Executor {
	case "slurm":
		err = submitSlurm(dir, m, sub, o)
	case "local":
		err = runLocal(dir, sub, o)
	default:
		return nil, fmt.Errorf("grid: executor %q: expected slurm or local", o.Executor)
	}
	if err != nil {
		return nil, err
	}
	return sub, nil
}

func recordSubmission(dir string, sub *Submission) error {
	unlock, _, err := flock.Lock(filepath.Join(dir, "state", "submissions.lock"), true)
	if err != nil {
		return err
	}
	defer unlock()
	return writeJSON(filepath.Join(dir, submissionsFile), append(loadSubmissions(dir), *sub))
}

// ArrayIndices writes task ids as sbatch --array ranges ("0-3,7,9-10").
func ArrayIndices(ids []int) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		} else {
			parts = append(parts, strconv.Itoa(ids[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Script is the sbatch script of a submission of tasks.
func Script(dir string, m *Manifest, tasks []int, o SubmitOptions) (string, error) {
	array := ArrayIndices(tasks)
	if o.MaxParallel > 0 {
		array += "%" + strconv.Itoa(o.MaxParallel)
	}
	cpus := max(o.CPUs, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=ventral-grid-%s\n", filepath.Base(dir))
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(dir, "logs", "%A_%a.out"))
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", cpus)
	switch o.Mem {
	case "":
	case "auto":
		need := 0
		for _, id := range tasks {
			need = max(need, m.Tasks[id].MemMB)
		}
		fmt.Fprintf(&b, "#SBATCH --mem=%dM\n", need*3/2)
	default:
		if strings.ContainsAny(o.Mem, " \n'\"") {
			return "", fmt.Errorf("grid: --mem %q: expected auto or an sbatch memory size such as 4G", o.Mem)
		}
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.Mem)
	}
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
	}
	if o.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
	}
	for _, x := range o.Extra {
		if strings.ContainsAny(x, "\n") {
			return "", fmt.Errorf("grid: sbatch option %q spans lines", x)
		}
		fmt.Fprintf(&b, "#SBATCH %s\n", x)
	}
	fmt.Fprintf(&b, "# Each array task scores one task of %s and records it in the grid's database.\n", filepath.Join(dir, ManifestFile))
	fmt.Fprintf(&b, "export GOMAXPROCS=${SLURM_CPUS_PER_TASK:-%d}\n", cpus)
	fmt.Fprintf(&b, "exec %s grid run %s --task \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(o.Ventral), shellQuote(dir))
	return b.String(), nil
}

func submitSlurm(dir string, m *Manifest, sub *Submission, o SubmitOptions) error {
	script, err := Script(dir, m, sub.Tasks, o)
	if err != nil {
		return err
	}
	n := len(loadSubmissions(dir))
	path := filepath.Join(dir, "sbatch", fmt.Sprintf("submit-%d.sh", n))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("sbatch", "--parsable", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("grid: sbatch %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	// --parsable prints "jobid" or "jobid;cluster".
	sub.Job, _, _ = strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(sub.Job); err != nil {
		return fmt.Errorf("grid: sbatch printed %q, not a job id", out)
	}
	sub.Script = path
	if err := recordSubmission(dir, sub); err != nil {
		return fmt.Errorf("grid: job %s submitted, but recording it failed: %w", sub.Job, err)
	}
	fmt.Fprintf(o.Log, "submitted %d tasks as job array %s (%s)\n", len(sub.Tasks), sub.Job, path)
	return nil
}

// runLocal runs the tasks as `ventral grid run` processes, MaxParallel at once, each writing
// to logs/local-ID.out. A task that fails is reported by Status; runLocal fails only when it
// cannot start them.
func runLocal(dir string, sub *Submission, o SubmitOptions) error {
	workers := o.MaxParallel
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	if err := recordSubmission(dir, sub); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var startErr error
	failed := 0
	for w := 0; w < min(workers, len(sub.Tasks)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				logf, err := os.OpenFile(filepath.Join(dir, "logs", fmt.Sprintf("local-%d.out", id)), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
				if err != nil {
					mu.Lock()
					startErr = err
					mu.Unlock()
					continue
				}
				cmd := exec.Command(o.Ventral, "grid", "run", dir, "--task", strconv.Itoa(id))
				cmd.Stdout, cmd.Stderr = logf, logf
				err = cmd.Run()
				logf.Close()
				mu.Lock()
				if err != nil {
					failed++
					fmt.Fprintf(o.Log, "task %d failed (%v); see ventral grid status\n", id, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range sub.Tasks {
		next <- id
	}
	close(next)
	wg.Wait()
	if startErr != nil {
		return fmt.Errorf("grid: %w", startErr)
	}
	fmt.Fprintf(o.Log, "ran %d tasks on %d workers, %d failed\n", len(sub.Tasks), workers, failed)
	return nil
}
