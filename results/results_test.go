package results

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
)

func fake(model, digest, bench string, score float64, norm *float64) *benchmarks.Result {
	return &benchmarks.Result{Benchmark: bench, Version: 1, Model: model, ModelDigest: digest, Seed: 1,
		Ceiling: benchmarks.Ceiling{Method: "none"}, BestLayer: "fc", HeldOut: score, HeldOutNormalized: norm,
		Layers: []benchmarks.LayerScore{{Layer: "conv", Score: score / 2}, {Layer: "fc", Score: score}}}
}

func TestRecordAndLeaderboard(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	if !strings.HasSuffix(DefaultPath(), "results.db") {
		t.Fatal(DefaultPath())
	}
	db, err := Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	half := 0.5
	if _, err := db.Record(fake("alexnet", "d1", "b1", 0.3, nil), "v1"); err != nil {
		t.Fatal(err)
	}
	// Same key again replaces; a later run of another version is the latest.
	if _, err := db.Record(fake("alexnet", "d1", "b1", 0.31, nil), "v1"); err != nil {
		t.Fatal(err)
	}
	id, err := db.Record(fake("alexnet", "d1", "b1", 0.2, nil), "v2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Record(fake("tiny", "d2", "b2", 0.1, &half), "v1"); err != nil {
		t.Fatal(err)
	}
	var n int
	db.db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&n)
	if n != 3 {
		t.Fatalf("%d runs", n)
	}
	ls, err := db.LayerScores(id)
	if err != nil || len(ls) != 2 || ls[1].Layer != "fc" {
		t.Fatalf("%v %v", ls, err)
	}
	r, err := db.Result(id)
	if err != nil || r.HeldOut != 0.2 {
		t.Fatalf("%v %v", r, err)
	}
	b, err := db.Leaderboard()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Models) != 2 || b.Cells["alexnet"]["b1"].Score != 0.2 || *b.Cells["tiny"]["b2"].Normalized != 0.5 {
		t.Fatalf("%+v", b)
	}
	var buf bytes.Buffer
	b.WriteTable(&buf)
	t.Log("\n" + buf.String())
	if !strings.Contains(buf.String(), "[0.200] (fc)") || strings.Contains(buf.String(), benchmarks.AboveCeilingMark) {
		t.Fatal(buf.String())
	}
	// A normalised score above 1 is marked, with the footnote.
	over := 1.1
	if _, err := db.Record(fake("tiny", "d2", "b2", 0.22, &over), "v3"); err != nil {
		t.Fatal(err)
	}
	if b, err = db.Leaderboard(); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	b.WriteTable(&buf)
	if !strings.Contains(buf.String(), "1.100"+benchmarks.AboveCeilingMark+" (fc)") || !strings.Contains(buf.String(), benchmarks.AboveCeilingNote) {
		t.Fatal(buf.String())
	}
}

// TestOpenPathWithURICharacters opens databases whose paths hold '?', '#' and '%': the file
// written must be the one named (the driver would otherwise read '?...' as URI parameters).
func TestOpenPathWithURICharacters(t *testing.T) {
	for _, name := range []string{"what?is.db", "a#b.db", "p%41c.db", "sp ace?x=1&y.db"} {
		dir := filepath.Join(t.TempDir(), "d?ir#1")
		p := filepath.Join(dir, name)
		db, err := Open(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Record(fake("m", "d", "b", 0.3, nil), "v"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 || len(names) != 1 {
			t.Fatalf("%s: folder holds %q, want only %q (%v)", name, names, name, err)
		}
		db, err = Open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.Leaderboard()
		db.Close()
		if err != nil || len(b.Models) != 1 {
			t.Fatalf("%s: reopened: %+v %v", name, b, err)
		}
	}
}
