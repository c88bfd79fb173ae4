package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/diskfull"
)

// TestCLIWritersAreAtomic: answers.csv (writeRows) and the analyze CSVs (writeOut) keep their
// previous content when a write fails part-way, as on a full disk.
func TestCLIWritersAreAtomic(t *testing.T) {
	dir := t.TempDir()
	rows := [][]string{{"stimulus", "category", "model_response"}}
	for i := 0; i < 300; i++ {
		rows = append(rows, []string{fmt.Sprintf("img%03d.png", i), "cat", "dog, or \"cat\""})
	}
	answers := filepath.Join(dir, "answers.csv")
	diskfull.Check(t, answers, 1024, func() error { return writeRows(answers, rows) })
	body := strings.Repeat("layer,score\n", 500)
	diskfull.Check(t, filepath.Join(dir, "rf.csv"), 1024, func() error {
		_, err := writeOut(dir, "rf.csv", func(w io.Writer) error { _, err := io.WriteString(w, body); return err })
		return err
	})
}
