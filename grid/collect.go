package grid

import (
	"fmt"

	"github.com/ventral-lab/ventral/results"
)

// Collect returns the grid's leaderboard: each cell's recorded run, read from the database by
// its content key (db overrides the grid's), and the cells not recorded yet.
func Collect(dir, db string) (*results.Board, []Task, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, nil, err
	}
	if db == "" {
		db = m.DB
	}
	d, err := results.Open(db)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	b := &results.Board{}
	var missing []Task
	seen := map[int]bool{}
	for _, t := range m.Tasks {
		if seen[t.Cell] {
			continue
		}
		seen[t.Cell] = true
		e, ok, err := d.Find(t.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("grid: %w", err)
		}
		if !ok {
			missing = append(missing, t)
			continue
		}
		b.Add(e)
	}
	return b, missing, nil
}
