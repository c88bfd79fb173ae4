package nn

// SetDepthwiseDirect switches Conv2D's depthwise routing for tests that compare it with the
// im2col path; it returns a function restoring the previous setting.
func SetDepthwiseDirect(on bool) func() {
	old := depthwiseDirect
	depthwiseDirect = on
	return func() { depthwiseDirect = old }
}
