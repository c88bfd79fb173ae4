package quickstart

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/results"
)

// The main job end to end at toy size: it trains, scores both benchmarks for the trained and
// the untrained network, records four results, prints the table and writes a report whose
// figures exist; a second run gives the same table.
func TestQuickstartEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	mirror.Path(t, "cifar10/test.zip")
	mirror.Path(t, "kriegeskorte92/92_brainRDMs.mat")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	run := func(out string) string {
		var buf bytes.Buffer
		// A zoo network stands in for an imported one here (any --model form is scored the
		// same way); the ImageNet networks have tests of their own in package imports.
		s, err := Run(Config{Out: out, Epochs: 1, Limit: 300, Batch: 50, Bootstrap: 40, Threads: 1, Imported: []string{"lenet5"},
			ResultsDB: filepath.Join(out, "results.db")}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Comparisons) != 2 {
			t.Fatalf("%d benchmarks compared, want 2", len(s.Comparisons))
		}
		if len(s.Sides) != 4 || s.Sides[3].Model != "random:lenet5" || len(s.Sides[3].Results) != 2 {
			t.Fatalf("side-by-side rows: %+v", s.Sides)
		}
		html, err := os.ReadFile(s.Report)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa", "Training"} {
			if !strings.Contains(string(html), want) {
				t.Errorf("report lacks %q", want)
			}
		}
		db, err := results.Open(filepath.Join(out, "results.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		board, err := db.Leaderboard()
		if err != nil {
			t.Fatal(err)
		}
		var tab bytes.Buffer
		board.WriteTable(&tab)
		if !strings.Contains(tab.String(), "cifar-cnn-untrained") {
			t.Errorf("leaderboard lacks the untrained copy:\n%s", tab.String())
		}
		return buf.String()
	}
	first := run(filepath.Join(t.TempDir(), "a"))
	t.Log("\n" + first)
	for _, want := range []string{"trained [95% CI]", "untrained [95% CI]", "best layer", "conv1", "fc2", "Side by side", "random:lenet5"} {
		if !strings.Contains(first, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	second := run(filepath.Join(t.TempDir(), "b"))
	// Everything but the wall-clock lines must repeat exactly.
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "images/s") || strings.HasPrefix(l, "total") || strings.HasPrefix(l, "report:") || strings.HasPrefix(l, "results database:") {
				continue
			}
			keep = append(keep, l)
		}
		return strings.Join(keep, "\n")
	}
	if strip(first) != strip(second) {
		t.Errorf("two runs differ:\n%s\n---\n%s", first, second)
	}
}
