package diskfull

import (
	"os/signal"
	"syscall"
	"testing"
)

// Limit caps the size of files this process writes at n bytes until restore is called (and at
// the end of the test at the latest). SIGXFSZ is ignored, so an oversized write returns EFBIG
// instead of killing the process.
func Limit(t *testing.T, n int64) (restore func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("no file size limit here: %v", err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	lim := old
	lim.Cur = uint64(n)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot lower the file size limit: %v", err)
	}
	done := false
	restore = func() {
		if !done {
			done = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Errorf("restoring the file size limit: %v", err)
			}
		}
	}
	t.Cleanup(restore)
	return restore
}
