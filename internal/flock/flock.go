// Package flock takes exclusive flock(2) locks on files, the one lock the activation cache and
// the grid's tasks share: the kernel drops such a lock when its holder dies (a cancelled or
// killed task), so no stale lock outlives a process, unlike a lock file naming a process id
// (whose id means nothing on another node of a cluster).
package flock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive lock on path (created if missing) and returns the function that
// releases it. With wait false, a lock held elsewhere returns busy true at once instead.
func Lock(path string, wait bool) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, false, nil
}
