// Package results stores benchmark results in a SQL database and builds the leaderboard: an
// embedded SQLite file (pure Go, no cgo) by default, or a lab's shared PostgreSQL server given as
// a postgres:// URL (through pgx's database/sql adapter, so one code path serves both). A run is
// keyed by model digest, model name, benchmark name and version, ventral version and seed (its
// content key); recording the same key again replaces the earlier run in one upsert, so a task
// that runs twice, or two processes that record the same key at once, leave one row.
package results

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
)

// DefaultPath is $VENTRAL_HOME/results.db ($VENTRAL_HOME defaults to ~/.cache/ventral).
func DefaultPath() string { return filepath.Join(datasets.Home(), "results.db") }

// DB is an open results database.
type DB struct {
	db       *sql.DB
	postgres bool
	where    string // the path, or the URL without its password, for messages
}

// IsURL reports whether a --db value names a PostgreSQL server rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// migrations are the schema's versions, applied in order and recorded in schema_migrations;
// a database is brought up to date when opened. The statements are written once for both
// engines: {{id}} is the auto-numbered key column, the one spelling they do not share. Version 1
// is the schema from before versioning (CREATE ... IF NOT EXISTS), so older files adopt it as is.
// Scores are DOUBLE PRECISION: PostgreSQL's REAL is single precision.
var migrations = []string{
	1: `CREATE TABLE IF NOT EXISTS runs (
	id {{id}},
	model_digest TEXT NOT NULL,
	model_name TEXT NOT NULL,
	benchmark TEXT NOT NULL,
	benchmark_version INTEGER NOT NULL,
	ventral_version TEXT NOT NULL,
	seed BIGINT NOT NULL,
	created_ns BIGINT NOT NULL,
	best_layer TEXT NOT NULL,
	score DOUBLE PRECISION NOT NULL,
	normalized DOUBLE PRECISION,
	ceiling DOUBLE PRECISION,
	result_json TEXT NOT NULL,
	UNIQUE (model_digest, model_name, benchmark, benchmark_version, ventral_version, seed)
);
CREATE TABLE IF NOT EXISTS layer_scores (
	run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	layer TEXT NOT NULL,
	position INTEGER NOT NULL,
	score DOUBLE PRECISION NOT NULL,
	normalized DOUBLE PRECISION,
	ci_low DOUBLE PRECISION,
	ci_high DOUBLE PRECISION,
	selection DOUBLE PRECISION,
	PRIMARY KEY (run_id, layer)
)`,
	2: `CREATE INDEX IF NOT EXISTS runs_model_benchmark ON runs (model_name, benchmark, created_ns)`,
}

// SchemaVersion is the version a database has once opened.
func SchemaVersion() int { return len(migrations) - 1 }

// Open opens (creating if needed) the database at path: a SQLite file, or a PostgreSQL server
// when path is a postgres:// or postgresql:// URL. Either is migrated to SchemaVersion.
func Open(path string) (*DB, error) {
	if IsURL(path) {
		return openPostgres(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("results database %s: cannot create the folder (%w); set VENTRAL_HOME to a writable folder or give --db", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("results database %s is a folder; give --db a file", path)
	}
	db, err := sql.Open("sqlite", sqliteURI(path))
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	// Grid tasks on one machine write the same file at once; SQLite serialises the writers and
	// the busy timeout makes a writer wait its turn instead of failing.
	for _, s := range []string{"PRAGMA busy_timeout = 60000", "PRAGMA foreign_keys = ON"} {
		if _, err := db.Exec(s); err != nil {
			db.Close()
			return nil, openError(path, err)
		}
	}
	d := &DB{db: db, where: path}
	if err := d.migrate(); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	return d, nil
}

func openPostgres(u string) (*DB, error) {
	where := u
	if pu, err := url.Parse(u); err == nil {
		where = pu.Redacted()
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("results database %s: %w", where, err)
	}
	d := &DB{db: db, postgres: true, where: where}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("results database %s: cannot connect (%w); check the URL, the server and its pg_hba.conf", where, err)
	}
	if err := d.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("results database %s: %w", where, err)
	}
	return d, nil
}

// migrate applies the migrations the database lacks, each in a transaction with its version
// row. Two processes opening a new database at once both succeed: on PostgreSQL an advisory
// lock makes the second wait; on SQLite the write lock of the first transaction does, and every
// statement is idempotent.
func (d *DB) migrate() error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.postgres {
		// The key is arbitrary but fixed: "ventral" in ASCII.
		if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(33325572326318444)`); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns BIGINT NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > SchemaVersion() {
		return fmt.Errorf("schema version %d is newer than this ventral's %d; use a newer ventral", have, SchemaVersion())
	}
	id := "INTEGER PRIMARY KEY"
	if d.postgres {
		id = "BIGSERIAL PRIMARY KEY"
	}
	for v := have + 1; v <= SchemaVersion(); v++ {
		for _, stmt := range strings.Split(strings.ReplaceAll(migrations[v], "{{id}}", id), ";\n") {
			if _, err := tx.Exec(stmt); err != nil {
				return fmt.Errorf("schema migration %d: %w", v, err)
			}
		}
		if _, err := tx.Exec(d.rebind(`INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?) ON CONFLICT (version) DO NOTHING`), v, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("schema migration %d: %w", v, err)
		}
	}
	return tx.Commit()
}

// rebind turns the ? placeholders of a query into PostgreSQL's $1, $2, ... (the queries here
// hold no ? of their own).
func (d *DB) rebind(q string) string {
	if !d.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// openError explains SQLite's terse failures to open or set up the database at path.
func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not a database"):
		return fmt.Errorf("results database %s is not a SQLite database (%w); give --db another file", path, err)
	case strings.Contains(msg, "unable to open"), strings.Contains(msg, "readonly"), strings.Contains(msg, "read-only"):
		return fmt.Errorf("results database %s cannot be written (%w); set VENTRAL_HOME to a writable folder or give --db", path, err)
	}
	return fmt.Errorf("results: %s: %w", path, err)
}

// sqliteURI names path as a file: URI with every byte that URIs reserve escaped, so a path
// holding '?', '#' or '%' opens that very file: given as a plain name, the driver would cut it
// at '?' and read the rest as connection parameters, writing another file than the one named.
func sqliteURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String()
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func nullable(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Record stores a result (per-layer scores and the summary) and returns its run id. A run with
// the same key is replaced.
func (d *DB) Record(r *benchmarks.Result, ventralVersion string) (int64, error) {
	if err := checkFinite(r); err != nil {
		return 0, fmt.Errorf("results: %s on %s: %w", r.Model, r.Benchmark, err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	tx, err := d.db.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	key := []any{r.ModelDigest, r.Model, r.Benchmark, r.Version, ventralVersion, int64(r.Seed)}
	var ceil any
	if r.Ceiling.Method != "none" {
		ceil = r.Ceiling.Value
	}
	// One statement inserts or replaces the run: unlike a delete then an insert, two writers of
	// the same key cannot both insert (PostgreSQL makes the second wait on the row, then update).
	var id int64
	err = tx.QueryRow(d.rebind(`INSERT INTO runs (model_digest, model_name, benchmark, benchmark_version, ventral_version, seed, created_ns, best_layer, score, normalized, ceiling, result_json)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (model_digest, model_name, benchmark, benchmark_version, ventral_version, seed) DO UPDATE SET
		created_ns = excluded.created_ns, best_layer = excluded.best_layer, score = excluded.score,
		normalized = excluded.normalized, ceiling = excluded.ceiling, result_json = excluded.result_json
		RETURNING id`), append(key, time.Now().UnixNano(), r.BestLayer, r.HeldOut, nullable(r.HeldOutNormalized), ceil, string(js))...).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("results %s: %w", d.where, err)
	}
	if _, err := tx.Exec(d.rebind(`DELETE FROM layer_scores WHERE run_id=?`), id); err != nil {
		return 0, err
	}
	for i, l := range r.Layers {
		if _, err := tx.Exec(d.rebind(`INSERT INTO layer_scores (run_id, layer, position, score, normalized, ci_low, ci_high, selection) VALUES (?,?,?,?,?,?,?,?)`),
			id, l.Layer, i, l.Score, nullable(l.Normalized), l.CILow, l.CIHigh, l.Selection); err != nil {
			return 0, err
		}
	}
	return id, tx.Commit()
}

// checkFinite refuses a result with a NaN or infinite score: that is no score (benchmarks.Score
// refuses non-finite activations; this keeps any other way in off the leaderboard).
func checkFinite(r *benchmarks.Result) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.HeldOut) {
		return fmt.Errorf("held-out score %v is not finite", r.HeldOut)
	}
	if p := r.HeldOutNormalized; p != nil && bad(*p) {
		return fmt.Errorf("normalised held-out score %v is not finite", *p)
	}
	for _, l := range r.Layers {
		if bad(l.Score) {
			return fmt.Errorf("layer %q: score %v is not finite", l.Layer, l.Score)
		}
	}
	return nil
}

// Result returns the stored result of a run.
func (d *DB) Result(id int64) (*benchmarks.Result, error) {
	var js string
	if err := d.db.QueryRow(d.rebind(`SELECT result_json FROM runs WHERE id=?`), id).Scan(&js); err != nil {
		return nil, fmt.Errorf("results: run %d: %w", id, err)
	}
	var r benchmarks.Result
	return &r, json.Unmarshal([]byte(js), &r)
}

// LayerScores returns the per-layer raw scores of a run, in the order scored.
func (d *DB) LayerScores(id int64) ([]benchmarks.LayerScore, error) {
	rows, err := d.db.Query(d.rebind(`SELECT layer, score, ci_low, ci_high, selection FROM layer_scores WHERE run_id=? ORDER BY position`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []benchmarks.LayerScore
	for rows.Next() {
		var l benchmarks.LayerScore
		if err := rows.Scan(&l.Layer, &l.Score, &l.CILow, &l.CIHigh, &l.Selection); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Entry is one leaderboard cell: the best-layer (held-out) score of the latest run of a model
// on a benchmark.
type Entry struct {
	Model       string    `json:"model"`
	ModelDigest string    `json:"model_digest"`
	Benchmark   string    `json:"benchmark"`
	Version     int       `json:"benchmark_version"`
	BestLayer   string    `json:"best_layer"`
	Score       float64   `json:"score"`
	Normalized  *float64  `json:"normalized,omitempty"`
	RunID       int64     `json:"run_id"`
	When        time.Time `json:"when"`
}

// Board is models x benchmarks.
type Board struct {
	Models     []string                    `json:"models"`
	Benchmarks []string                    `json:"benchmarks"`
	Cells      map[string]map[string]Entry `json:"cells"` // model -> benchmark -> entry
}

// Leaderboard returns, for every model (by name) and benchmark, the entry of the latest run.
func (d *DB) Leaderboard() (*Board, error) {
	rows, err := d.db.Query(`SELECT id, model_name, model_digest, benchmark, benchmark_version, best_layer, score, normalized, created_ns
		FROM runs r WHERE created_ns = (SELECT MAX(created_ns) FROM runs q WHERE q.model_name = r.model_name AND q.benchmark = r.benchmark)
		ORDER BY model_name, benchmark`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := &Board{Cells: map[string]map[string]Entry{}}
	for rows.Next() {
		var e Entry
		var norm sql.NullFloat64
		var ns int64
		if err := rows.Scan(&e.RunID, &e.Model, &e.ModelDigest, &e.Benchmark, &e.Version, &e.BestLayer, &e.Score, &norm, &ns); err != nil {
			return nil, err
		}
		if norm.Valid {
			v := norm.Float64
			e.Normalized = &v
		}
		e.When = time.Unix(0, ns).UTC()
		b.Add(e)
	}
	slices.Sort(b.Benchmarks)
	return b, rows.Err()
}

// WriteTable renders the board: one row per model, one column per benchmark, each cell the
// normalised score (or the raw score in brackets where there is no ceiling) and the layer.
func (b *Board) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "model")
	for _, bn := range b.Benchmarks {
		fmt.Fprintf(tw, "\t%s", bn)
	}
	fmt.Fprintln(tw)
	above := false
	for _, m := range b.Models {
		fmt.Fprint(tw, m)
		for _, bn := range b.Benchmarks {
			e, ok := b.Cells[m][bn]
			switch {
			case !ok:
				fmt.Fprint(tw, "\t-")
			case e.Normalized != nil:
				mark := benchmarks.NormMark(e.Normalized)
				above = above || mark != ""
				fmt.Fprintf(tw, "\t%.3f%s (%s)", *e.Normalized, mark, e.BestLayer)
			default:
				fmt.Fprintf(tw, "\t[%.3f] (%s)", e.Score, e.BestLayer)
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if above {
		_, err := fmt.Fprintln(w, benchmarks.AboveCeilingNote)
		return err
	}
	return nil
}

// Key is a run's content key: what was scored, on what, by which ventral, with which seed.
type Key struct {
	ModelDigest    string `json:"model_digest"`
	Model          string `json:"model"`
	Benchmark      string `json:"benchmark"`
	Version        int    `json:"benchmark_version"`
	VentralVersion string `json:"ventral_version"`
	Seed           uint64 `json:"seed"`
}

// KeyOf is the key under which Record stores r.
func KeyOf(r *benchmarks.Result, ventralVersion string) Key {
	return Key{r.ModelDigest, r.Model, r.Benchmark, r.Version, ventralVersion, r.Seed}
}

// Find returns the entry of the run stored under k; ok is false when there is none.
func (d *DB) Find(k Key) (e Entry, ok bool, err error) {
	var norm sql.NullFloat64
	var ns int64
	err = d.db.QueryRow(d.rebind(`SELECT id, model_name, model_digest, benchmark, benchmark_version, best_layer, score, normalized, created_ns FROM runs
		WHERE model_digest=? AND model_name=? AND benchmark=? AND benchmark_version=? AND ventral_version=? AND seed=?`),
		k.ModelDigest, k.Model, k.Benchmark, k.Version, k.VentralVersion, int64(k.Seed)).
		Scan(&e.RunID, &e.Model, &e.ModelDigest, &e.Benchmark, &e.Version, &e.BestLayer, &e.Score, &norm, &ns)
	if err == sql.ErrNoRows {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("results %s: %w", d.where, err)
	}
	if norm.Valid {
		v := norm.Float64
		e.Normalized = &v
	}
	e.When = time.Unix(0, ns).UTC()
	return e, true, nil
}

// Add puts e on the board (replacing the cell's entry).
func (b *Board) Add(e Entry) {
	if b.Cells == nil {
		b.Cells = map[string]map[string]Entry{}
	}
	if b.Cells[e.Model] == nil {
		b.Cells[e.Model] = map[string]Entry{}
		b.Models = append(b.Models, e.Model)
	}
	b.Cells[e.Model][e.Benchmark] = e
	if !slices.Contains(b.Benchmarks, e.Benchmark) {
		b.Benchmarks = append(b.Benchmarks, e.Benchmark)
	}
}
