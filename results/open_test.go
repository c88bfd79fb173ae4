package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Open says which file is wrong and what to do, instead of a raw OS or SQLite error: a folder
// that cannot be made, a file that is not a SQLite database, a path that is a folder.
func TestOpenErrorsSayWhat(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(text, []byte("not a database, just text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder.db")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want []string
	}{
		{filepath.Join(text, "sub", "results.db"), []string{"cannot create the folder", "VENTRAL_HOME", "--db"}},
		{text, []string{"is not a SQLite database", "--db"}},
		{folder, []string{"is a folder", "--db"}},
	} {
		db, err := Open(c.path)
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", c.path)
			continue
		}
		for _, w := range append(c.want, c.path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.path, err, w)
			}
		}
	}
	if b, _ := os.ReadFile(text); string(b) != "not a database, just text\n" {
		t.Errorf("the text file was changed: %q", b)
	}
}
