package results

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
)

// A result whose held-out or layer score is NaN or Inf (activations that overflowed) is not a
// score: Record refuses it, naming what is not finite, so it never reaches the leaderboard.
func TestRecordRefusesNonFinite(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inf := math.Inf(1)
	layer := fake("m", "d", "b", 0.3, nil)
	layer.Layers[0].Score = math.Inf(-1)
	for want, r := range map[string]*benchmarks.Result{
		"held-out score":            fake("m", "d", "b", math.NaN(), nil),
		"normalised held-out score": fake("m", "d", "b", 0.3, &inf),
		`layer "conv"`:              layer,
	} {
		if _, err := db.Record(r, "v1"); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not finite") {
			t.Errorf("%s: %v", want, err)
		}
	}
	b, err := db.Leaderboard()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Models) != 0 {
		t.Fatalf("non-finite results recorded: %+v", b.Cells)
	}
}
