package peers

import (
	"os"
	"testing"
)

// A module python does not have skips the test, or fails it under CI.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) Skipf(string, ...any)  { r.skipped = true; panic(r) }

func call(r *recorder) {
	defer func() { recover() }()
	Python(r, "no_such_module_ventral")
}

func TestPythonMissingModule(t *testing.T) {
	if _, err := os.Stat(PythonPath); err != nil {
		t.Skip("no python at all")
	}
	t.Setenv("CI", "")
	r := &recorder{}
	call(r)
	if !r.skipped || r.failed {
		t.Fatalf("outside CI: skipped=%v failed=%v, want a skip", r.skipped, r.failed)
	}
	t.Setenv("CI", "1")
	r = &recorder{}
	call(r)
	if !r.failed || r.skipped {
		t.Fatalf("under CI: skipped=%v failed=%v, want a failure", r.skipped, r.failed)
	}
}
