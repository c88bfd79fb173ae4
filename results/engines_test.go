package results

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ventral-lab/ventral/internal/cluster"
)

// The same code path behaves the same on SQLite and on a real PostgreSQL server: migrations
// are recorded once, a key recorded twice leaves one row, float64 scores survive exactly, and
// writers on separate connections at once lose no row and duplicate none.
func TestEngines(t *testing.T) {
	engines := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "r.db") },
		"postgres": func(t *testing.T) string { return cluster.Postgres(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			where := engines[name](t)
			db, err := Open(where)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.postgres != IsURL(where) {
				t.Fatalf("%s opened as postgres=%v", where, db.postgres)
			}
			// Reopening applies nothing twice.
			again, err := Open(where)
			if err != nil {
				t.Fatal(err)
			}
			again.Close()
			var n, top int
			db.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &top)
			if n != SchemaVersion() || top != SchemaVersion() {
				t.Fatalf("schema_migrations: %d rows up to %d, want %d", n, top, SchemaVersion())
			}
			// A score that single precision would round.
			const exact = 0.123456789012345
			r := fake("m", "d", "b", exact, nil)
			id1, err := db.Record(r, "v1")
			if err != nil {
				t.Fatal(err)
			}
			r.HeldOut, r.Layers[1].Score = exact/3, exact/3
			id2, err := db.Record(r, "v1")
			if err != nil {
				t.Fatal(err)
			}
			e, ok, err := db.Find(KeyOf(r, "v1"))
			if err != nil || !ok || e.RunID != id2 || e.Score != exact/3 {
				t.Fatalf("Find: %+v %v %v (ids %d %d)", e, ok, err, id1, id2)
			}
			if _, ok, _ := db.Find(KeyOf(r, "v2")); ok {
				t.Fatal("Find found a key never recorded")
			}
			ls, err := db.LayerScores(id2)
			if err != nil || len(ls) != 2 || ls[1].Score != exact/3 {
				t.Fatalf("layer scores after the replacement: %+v %v", ls, err)
			}
			db.db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&n)
			if n != 1 {
				t.Fatalf("%d runs after recording one key twice", n)
			}

			// Four writers (own connections, as separate processes would have) record ten
			// shared keys and five keys of their own each, all at once.
			const writers, shared, own = 4, 10, 5
			var wg sync.WaitGroup
			errs := make(chan error, writers*(shared+own))
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					h, err := Open(where)
					if err != nil {
						errs <- err
						return
					}
					defer h.Close()
					for i := 0; i < shared+own; i++ {
						model := fmt.Sprintf("shared%d", i)
						if i >= shared {
							model = fmt.Sprintf("w%d-%d", w, i)
						}
						if _, err := h.Record(fake(model, "d", "b", float64(i)/100, nil), "v1"); err != nil {
							errs <- err
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var layers int
			db.db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&n)
			db.db.QueryRow(`SELECT COUNT(*) FROM layer_scores`).Scan(&layers)
			if want := 1 + shared + writers*own; n != want || layers != 2*want {
				t.Fatalf("%d runs and %d layer scores, want %d and %d", n, layers, want, 2*want)
			}
			b, err := db.Leaderboard()
			if err != nil || len(b.Models) != 1+shared+writers*own {
				t.Fatalf("leaderboard: %d models, %v", len(b.Models), err)
			}
		})
	}
}

// A database written before migrations were versioned (the first schema, no
// schema_migrations) opens, is brought to the current version, and keeps its runs; recording
// one of them again replaces it in place.
func TestMigratesAnUnversionedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// The schema as ventral created it before this package versioned it.
	for _, s := range []string{`CREATE TABLE runs (id INTEGER PRIMARY KEY, model_digest TEXT NOT NULL, model_name TEXT NOT NULL,
		benchmark TEXT NOT NULL, benchmark_version INTEGER NOT NULL, ventral_version TEXT NOT NULL, seed INTEGER NOT NULL,
		created_ns INTEGER NOT NULL, best_layer TEXT NOT NULL, score REAL NOT NULL, normalized REAL, ceiling REAL,
		result_json TEXT NOT NULL, UNIQUE (model_digest, model_name, benchmark, benchmark_version, ventral_version, seed))`,
		`CREATE TABLE layer_scores (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, layer TEXT NOT NULL,
		position INTEGER NOT NULL, score REAL NOT NULL, normalized REAL, ci_low REAL, ci_high REAL, selection REAL,
		PRIMARY KEY (run_id, layer))`,
		`INSERT INTO runs VALUES (7, 'd', 'm', 'b', 1, 'v1', 1, 1, 'fc', 0.25, NULL, NULL, '{}')`,
		`INSERT INTO layer_scores VALUES (7, 'fc', 0, 0.25, NULL, NULL, NULL, 0)`,
	} {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions, index int
	db.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions)
	db.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name='runs_model_benchmark'`).Scan(&index)
	if versions != SchemaVersion() || index != 1 {
		t.Fatalf("after reopening: %d versions recorded, index present %d", versions, index)
	}
	if _, err := db.Record(fake("m", "d", "b", 0.5, nil), "v1"); err != nil {
		t.Fatal(err)
	}
	var n, id, layers int
	var score float64
	db.db.QueryRow(`SELECT COUNT(*), MAX(score), MAX(id) FROM runs`).Scan(&n, &score, &id)
	db.db.QueryRow(`SELECT COUNT(*) FROM layer_scores`).Scan(&layers)
	if n != 1 || score != 0.5 || id != 7 || layers != 2 {
		t.Fatalf("%d runs (id %d), score %v, %d layer scores; want the old run 7 replaced, with 2 layers", n, id, score, layers)
	}
}
