package cluster

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Both engines start, do real work (a query; a batch job that writes a file), and stop.
func TestEngines(t *testing.T) {
	start := time.Now()
	url := Postgres(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("SELECT 6 * 7").Scan(&v); err != nil || v != 42 {
		t.Fatalf("SELECT 6*7 = %d, %v", v, err)
	}
	t.Logf("PostgreSQL up in %v", time.Since(start))
	start = time.Now()
	s := StartSlurm(t)
	t.Logf("SLURM up in %v", time.Since(start))
	out := filepath.Join(t.TempDir(), "out")
	start = time.Now()
	cmd := s.Command("sbatch", "--parsable", "--output", out+".tmp", "--wrap", "echo task $SLURM_JOB_ID; mv "+out+".tmp "+out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch: %v\n%s", err, b)
	}
	var got []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && got == nil; time.Sleep(50 * time.Millisecond) {
		got, _ = os.ReadFile(out)
	}
	t.Logf("job ran in %v", time.Since(start))
	if want := "task " + strings.TrimSpace(string(b)); strings.TrimSpace(string(got)) != want {
		t.Fatalf("job output %q, want %q", got, want)
	}
}
