// Package grid scores a grid of models x benchmarks as independent tasks on a cluster's
// scheduler (SLURM, through sbatch job arrays) or with workers on this machine, recording every
// cell in a shared results database (SQLite or PostgreSQL, see package results).
//
// A grid is a folder: manifest.json lists the tasks (one per model x benchmark, or per layer
// group of one), each with the content key its result is recorded under and an estimate of its
// memory and time; state/ holds each task's markers (started, done, failed with a reason) and
// locks; logs/ the tasks' output. Everything a task writes is written atomically, a task's
// result is an upsert on its content key, and a task holds a lock while it runs, so running a
// task twice (a resubmission, a requeue) leaves one row and the same score. ventral does not
// schedule anything itself: SLURM does, and a lab's sbatch options pass through.
package grid

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/train"
)

// ManifestFile is the grid's task list inside its folder.
const ManifestFile = "manifest.json"

// FormatVersion is the manifest's format; a grid of another format is refused.
const FormatVersion = 1

// Manifest is a planned grid.
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Ventral is the version that planned the grid; tasks run by another version are refused,
	// since their results would be recorded under another content key.
	Ventral    string   `json:"ventral_version"`
	DB         string   `json:"db"`    // results database: SQLite path or postgres:// URL
	Cache      string   `json:"cache"` // activation cache folder shared by the tasks
	Seed       uint64   `json:"seed"`
	Bootstrap  int      `json:"bootstrap"`
	Models     []string `json:"models"`
	Benchmarks []string `json:"benchmarks"`
	// LayersPerTask splits each cell into tasks of this many layers (0: one task per cell).
	LayersPerTask int    `json:"layers_per_task,omitempty"`
	Tasks         []Task `json:"tasks"`
}

// Task is one unit of work: a cell, or one layer group of a cell.
type Task struct {
	ID        int    `json:"id"`
	Cell      int    `json:"cell"` // index of the model x benchmark cell
	Model     string `json:"model"`
	Benchmark string `json:"benchmark"`
	// Layers is the group's layers when the cell is split (nil: every default layer). A group
	// task scores its layers, which leaves their activations in the cache; the task that
	// finishes a cell's last group scores all its layers from the cache and records the cell,
	// so a split cell's result is exactly an unsplit one's.
	Layers []string    `json:"layers,omitempty"`
	Group  int         `json:"group"`
	Groups int         `json:"groups"`
	Key    results.Key `json:"key"`
	// MemMB and Seconds are rough estimates (see estimate) for the scheduler's request.
	MemMB   int     `json:"mem_mb"`
	Seconds float64 `json:"seconds"`
}

// PlanOptions configure Plan.
type PlanOptions struct {
	Models, Benchmarks []string
	LayersPerTask      int
	Seed               uint64
	Bootstrap          int
	DB                 string // default results.DefaultPath()
	Cache              string // default DIR/cache
}

// Plan writes a new grid into dir (which must not hold one): it loads every model and
// benchmark once to compute the content keys and estimates, so a typo fails here and not on
// the cluster an hour later.
func Plan(dir string, o PlanOptions) (*Manifest, error) {
	if len(o.Models) == 0 || len(o.Benchmarks) == 0 {
		return nil, fmt.Errorf("grid: plan needs at least one model and one benchmark")
	}
	if o.LayersPerTask < 0 {
		return nil, fmt.Errorf("grid: --layers-per-task %d: expected 0 (one task per cell) or more", o.LayersPerTask)
	}
	if err := benchmarks.CheckBootstrap(o.Bootstrap); err != nil {
		return nil, err
	}
	if dup := firstDup(o.Models); dup != "" {
		return nil, fmt.Errorf("grid: model %q listed twice", dup)
	}
	if dup := firstDup(o.Benchmarks); dup != "" {
		return nil, fmt.Errorf("grid: benchmark %q listed twice", dup)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, ManifestFile)); err == nil {
		return nil, fmt.Errorf("grid: %s already holds a grid (%s); plan into a new folder", dir, ManifestFile)
	}
	m := &Manifest{Format: FormatVersion, Created: time.Now().UTC(), Ventral: train.Version(), Seed: o.Seed,
		Bootstrap: o.Bootstrap, LayersPerTask: o.LayersPerTask}
	if m.DB = o.DB; m.DB == "" {
		m.DB = results.DefaultPath()
	}
	if !results.IsURL(m.DB) {
		if m.DB, err = filepath.Abs(m.DB); err != nil {
			return nil, err
		}
	}
	if m.Cache = o.Cache; m.Cache == "" {
		m.Cache = filepath.Join(abs, "cache")
	}
	if m.Cache, err = filepath.Abs(m.Cache); err != nil {
		return nil, err
	}
	// Files are named by absolute path: a task runs in another folder, on another node.
	for _, name := range o.Models {
		m.Models = append(m.Models, absIfFile(name))
	}
	for _, name := range o.Benchmarks {
		m.Benchmarks = append(m.Benchmarks, absIfFile(name))
	}
	specs := make([]*benchmarks.Spec, len(m.Benchmarks))
	nstim := make([]int, len(m.Benchmarks))
	for i, b := range m.Benchmarks {
		if specs[i], err = benchmarks.Load(b); err != nil {
			return nil, fmt.Errorf("grid: benchmark %s: %w", b, err)
		}
		nstim[i] = 1000 // when the set cannot be counted cheaply (a split set)
		if set, err := specs[i].StimulusSet(""); err == nil {
			nstim[i] = set.Len()
		}
	}
	cell := 0
	for _, model := range m.Models {
		g, err := loadModel(model, o.Seed)
		if err != nil {
			return nil, fmt.Errorf("grid: model %s: %w", model, err)
		}
		sub := subject.FromGraph(g)
		digest, err := sub.Digest()
		if err != nil {
			return nil, fmt.Errorf("grid: model %s: %w", model, err)
		}
		layers, err := subject.DefaultLayers(sub)
		if err != nil {
			return nil, fmt.Errorf("grid: model %s: %w", model, err)
		}
		groups := [][]string{nil}
		if o.LayersPerTask > 0 && len(layers) > o.LayersPerTask {
			groups = nil
			for l := range slices.Chunk(layers, o.LayersPerTask) {
				groups = append(groups, l)
			}
		}
		for bi, spec := range specs {
			key := results.Key{ModelDigest: digest, Model: sub.Name(), Benchmark: spec.Name, Version: spec.Version,
				VentralVersion: m.Ventral, Seed: o.Seed}
			for gi, ls := range groups {
				t := Task{ID: len(m.Tasks), Cell: cell, Model: model, Benchmark: m.Benchmarks[bi], Layers: ls,
					Group: gi, Groups: len(groups), Key: key}
				scored := ls
				if scored == nil || gi == len(groups)-1 {
					scored = layers // the last group may score the whole cell
				}
				t.MemMB, t.Seconds = estimate(g, layers, scored, nstim[bi])
				m.Tasks = append(m.Tasks, t)
			}
			cell++
		}
	}
	for _, sub := range []string{"state", "logs"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("grid: %w", err)
		}
	}
	if err := writeJSON(filepath.Join(abs, ManifestFile), m); err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	return m, nil
}

// estimate is a rough memory (MiB) and time (s) for scoring layers of g on n stimuli: the
// weights, one batch of every layer's output, and the scored layers' responses to every
// stimulus held for the metric, plus a base for the program and the neural data; time grows
// with the activation volume. It is meant to size a scheduler request (submit --mem auto adds a
// margin), not to predict.
func estimate(g *nn.Graph, all, scored []string, n int) (memMB int, seconds float64) {
	const batch = 32
	sub := subject.FromGraph(g)
	size := func(l string) float64 {
		n, _ := sub.LayerSize(l)
		return float64(n)
	}
	var fwd, kept float64
	for _, l := range all {
		fwd += size(l)
	}
	for _, l := range scored {
		kept += size(l)
	}
	bytes := 4*float64(g.NumParams()) + 4*batch*fwd*2 + 4*float64(n)*kept + 300<<20
	return int(bytes/(1<<20)) + 1, 2 + float64(n)*fwd*20e-9 + float64(n)*kept*10e-9
}

func loadModel(model string, seed uint64) (*nn.Graph, error) {
	g, err := train.LoadModel(model)
	if err != nil {
		return nil, err
	}
	if !g.Built() {
		if err := g.Build(seed); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func absIfFile(name string) string {
	if _, err := os.Stat(name); err == nil {
		if a, err := filepath.Abs(name); err == nil {
			return a
		}
	}
	return name
}

func firstDup(s []string) string {
	seen := map[string]bool{}
	for _, x := range s {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// Load reads the grid in dir.
func Load(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("grid: %s holds no grid (no %s); make one with ventral grid plan", dir, ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("grid: %s: %w", path, err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("grid: %s: format %d, expected %d", path, m.Format, FormatVersion)
	}
	for i, t := range m.Tasks {
		if t.ID != i || t.Groups < 1 || t.Group < 0 || t.Group >= t.Groups || t.Model == "" || t.Benchmark == "" {
			return nil, fmt.Errorf("grid: %s: task %d is malformed (id %d, group %d of %d)", path, i, t.ID, t.Group, t.Groups)
		}
	}
	return &m, nil
}

// task returns task id of m, or an error naming the range.
func (m *Manifest) task(id int) (*Task, error) {
	if id < 0 || id >= len(m.Tasks) {
		return nil, fmt.Errorf("grid: no task %d (the grid has tasks 0 to %d)", id, len(m.Tasks)-1)
	}
	return &m.Tasks[id], nil
}

// cellTasks returns the tasks (layer groups) of cell c.
func (m *Manifest) cellTasks(c int) []*Task {
	var out []*Task
	for i := range m.Tasks {
		if m.Tasks[i].Cell == c {
			out = append(out, &m.Tasks[i])
		}
	}
	return out
}

func describe(t *Task) string {
	s := fmt.Sprintf("%s on %s", t.Model, t.Benchmark)
	if t.Groups > 1 {
		s += fmt.Sprintf(" (layers %s, group %d of %d)", strings.Join(t.Layers, ","), t.Group+1, t.Groups)
	}
	return s
}
