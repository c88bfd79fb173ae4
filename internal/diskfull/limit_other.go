//go:build !linux

package diskfull

import "testing"

// Limit is only implemented on Linux.
func Limit(t *testing.T, n int64) (restore func()) {
	t.Skip("file size limits are only simulated on Linux")
	return func() {}
}
