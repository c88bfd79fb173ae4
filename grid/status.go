package grid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// State is where a task stands.
type State string

const (
	Done    State = "done"
	Running State = "running"
	Pending State = "pending" // queued by the scheduler
	Failed  State = "failed"
	NotRun  State = "not run"
)

// TaskStatus is one task's state, with the reason when it failed.
type TaskStatus struct {
	Task   Task     `json:"task"`
	State  State    `json:"state"`
	Reason string   `json:"reason,omitempty"`
	Job    string   `json:"job,omitempty"`
	Score  *float64 `json:"score,omitempty"`
	Layer  string   `json:"best_layer,omitempty"`
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Status reports every task of the grid in dir. A task is done when it marked itself done;
// running while it holds its lock; pending while SLURM has it queued; failed when it marked a
// failure, or started and vanished without a word (the reason is then read from SLURM's log of
// the task: cancelled, time limit, out of memory, node failure), or was submitted but SLURM no
// longer knows it; not run otherwise.
func Status(dir string) ([]TaskStatus, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	subs := loadSubmissions(dir)
	last := map[int]*Submission{} // each task's latest submission
	for i := range subs {
		for _, id := range subs[i].Tasks {
			last[id] = &subs[i]
		}
	}
	queue := map[string]string{} // "job_task" -> SLURM state
	queried := map[string]bool{}
	out := make([]TaskStatus, len(m.Tasks))
	for i, t := range m.Tasks {
		s := TaskStatus{Task: t, State: NotRun}
		sub := last[t.ID]
		if sub != nil && sub.Job != "" {
			s.Job = sub.Job + "_" + strconv.Itoa(t.ID)
		}
		if d, ok := readMarker(dir, t.ID, "done"); ok {
			s.State, s.Score, s.Layer = Done, d.Score, d.Layer
			out[i] = s
			continue
		}
		unlock, busy, err := lockTask(dir, t.ID)
		if err == nil && !busy {
			unlock()
		}
		if busy {
			s.State = Running
			out[i] = s
			continue
		}
		if sub != nil && sub.Executor == "slurm" {
			if !queried[sub.Job] {
				queried[sub.Job] = true
				squeue(sub.Job, queue)
			}
			if q, ok := queue[s.Job]; ok {
				switch q {
				case "PENDING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED":
					s.State, s.Reason = Pending, strings.ToLower(q)
				default:
					s.State, s.Reason = Running, strings.ToLower(q)
				}
				out[i] = s
				continue
			}
		}
		f, failed := readMarker(dir, t.ID, "failed")
		_, started := readMarker(dir, t.ID, "started")
		logReason := ""
		if sub != nil {
			logReason = reasonFromLog(logPath(dir, sub, t.ID))
		}
		switch {
		case failed:
			s.State, s.Reason = Failed, f.Reason
			if logReason != "" && !strings.Contains(f.Reason, logReason) {
				s.Reason += " [log: " + logReason + "]"
			}
		case started:
			s.State, s.Reason = Failed, "stopped without a report"
			if logReason != "" {
				s.Reason += ": " + logReason
			} else {
				s.Reason += " (killed: out of memory or node loss?)"
			}
		case sub != nil && sub.Executor == "slurm":
			s.State, s.Reason = Failed, "submitted but never started and no longer queued"
			if logReason != "" {
				s.Reason += ": " + logReason
			}
		}
		out[i] = s
	}
	return out, nil
}

func logPath(dir string, sub *Submission, id int) string {
	if sub.Executor == "slurm" {
		return filepath.Join(dir, "logs", fmt.Sprintf("%s_%d.out", sub.Job, id))
	}
	return filepath.Join(dir, "logs", fmt.Sprintf("local-%d.out", id))
}

// squeue adds the tasks of job that SLURM still holds (one line per array task with -r).
func squeue(job string, into map[string]string) {
	// Bounded: squeue retries for a minute when its configuration file is missing.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "squeue", "-h", "-r", "-j", job, "-o", "%i|%T").Output()
	if err != nil {
		return // not queued any more (squeue fails for an unknown job) or no SLURM here
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		id, st, ok := strings.Cut(strings.TrimSpace(sc.Text()), "|")
		if ok {
			into[id] = st
		}
	}
}

// reasonFromLog reads why SLURM ended a task from the lines slurmstepd writes into the task's
// output, or else returns the log's last line (a task's own error message).
func reasonFromLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	text := string(b)
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(text, "DUE TO TIME LIMIT"):
		return "time limit reached"
	case strings.Contains(text, "DUE TO PREEMPTION"):
		return "preempted"
	case strings.Contains(text, "DUE TO NODE FAILURE"), strings.Contains(text, "NODE_FAIL"):
		return "node failure"
	case strings.Contains(lower, "oom-kill"), strings.Contains(lower, "out of memory"), strings.Contains(lower, "exceeded job memory limit"), strings.Contains(lower, "exceeded memory limit"):
		return "out of memory"
	case strings.Contains(text, "CANCELLED AT"):
		return "cancelled (scancel)"
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// WriteStatus prints a count per state and one line per task that is not done.
func WriteStatus(w io.Writer, st []TaskStatus) error {
	count := map[State]int{}
	for _, s := range st {
		count[s.State]++
	}
	fmt.Fprintf(w, "%d tasks: %d done, %d running, %d pending, %d failed, %d not run\n",
		len(st), count[Done], count[Running], count[Pending], count[Failed], count[NotRun])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range st {
		if s.State == Done {
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.Task.ID, describe(&s.Task), s.State, s.Job, s.Reason)
	}
	return tw.Flush()
}
