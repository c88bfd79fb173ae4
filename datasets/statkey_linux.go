package datasets

import (
	"os"
	"syscall"
)

// fileIdentity returns the device, inode and change time (ns) of st. The change time moves on
// every write, chmod or rename and cannot be set back by a user, so an edit that restores the
// size and mtime still changes it.
func fileIdentity(st os.FileInfo) (dev, ino uint64, ctime int64, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0, false
	}
	return uint64(s.Dev), s.Ino, s.Ctim.Sec*1e9 + s.Ctim.Nsec, true
}
