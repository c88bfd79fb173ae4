package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile, inside a run folder, holds the id of the process training into it. Two runs on one
// folder would otherwise both succeed, one overwriting the other's checkpoint and metrics.
const LockFile = ".lock"

// lockRun creates dir/LockFile exclusively with this process's id and returns a function that
// removes it. A lock whose process no longer exists (a run killed before it could clean up) is
// taken over, with a message on log.
func lockRun(dir string, log io.Writer) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("train: writing lock %s: %w", path, werr)
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("train: locking run folder: %w", err)
		}
		b, rerr := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if rerr != nil || perr != nil || pid <= 0 {
			return nil, fmt.Errorf("train: run folder %s is locked by %s, which does not name a process; remove it if no run is using the folder", dir, path)
		}
		if alive(pid) {
			return nil, fmt.Errorf("train: run folder %s is in use by process %d (lock %s); wait for that run, or remove the lock if it is not a ventral run", dir, pid, path)
		}
		if log != nil {
			fmt.Fprintf(log, "train: taking over the stale lock %s of process %d, which has exited\n", path, pid)
		}
		// Two processes may both find the lock stale; removing and re-creating with O_EXCL lets
		// only one of them win the next attempt.
		os.Remove(path)
	}
	return nil, fmt.Errorf("train: run folder %s: another process took the lock %s first", dir, path)
}

// alive reports whether a process with this id exists (signal 0 checks without sending).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
