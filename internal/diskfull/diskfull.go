// Package diskfull lets tests make file writes fail part-way, as on a full disk: it lowers the
// process's file-size limit (RLIMIT_FSIZE), so a write past it fails with EFBIG after the bytes
// before it have landed. Tests use it to check that writers go through internal/atomicfile and
// leave the previous file whole instead of a truncated one.
package diskfull

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check runs write twice on path: once unlimited (the "old" file), then with files limited to
// limit bytes; the second write must fail and leave the old content and no temporary files.
// The first write's output must be larger than limit, or the limit would not bite.
func Check(t *testing.T, path string, limit int64, write func() error) {
	t.Helper()
	if err := write(); err != nil {
		t.Fatalf("first write: %v", err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(old)) <= limit {
		t.Fatalf("%s is %d bytes, not above the %d-byte limit: the check would be vacuous", path, len(old), limit)
	}
	restore := Limit(t, limit)
	err = write()
	restore()
	if err == nil {
		t.Fatalf("writing %s beyond a %d-byte limit did not fail", path, limit)
	}
	now, rerr := os.ReadFile(path)
	if rerr != nil || string(now) != string(old) {
		t.Fatalf("a failed write left %s as %d bytes (was %d): %v (not written atomically)", path, len(now), len(old), rerr)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
