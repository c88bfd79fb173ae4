package diskfull

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/atomicfile"
)

// TestLimitMakesPlainWritesPartial shows the simulation works: a plain os.WriteFile beyond the
// limit fails and leaves a truncated file; atomicfile.Write fails and leaves the old one.
func TestLimitMakesPlainWritesPartial(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.csv")
	big := []byte(strings.Repeat("0123456789\n", 1000))
	os.WriteFile(p, big, 0o644)
	restore := Limit(t, 4096)
	err := os.WriteFile(p, big, 0o644)
	restore()
	if st, _ := os.Stat(p); err == nil || st.Size() != 4096 {
		t.Fatalf("plain write under the limit: %v, file %d bytes", err, st.Size())
	}
	Check(t, p, 4096, func() error { return atomicfile.Write(p, big) })
}
