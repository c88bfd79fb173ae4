package nn

// SetWinograd switches Conv2D's Winograd inference path for tests that compare it with
// im2col; it returns a function restoring the previous setting.
func SetWinograd(on bool) func() {
	old := winogradOn
	winogradOn = on
	return func() { winogradOn = old }
}

// HasWinogradWeights reports whether the convolution holds weights transformed for Winograd.
func HasWinogradWeights(cv *Conv2D) bool { return cv.wino.Load() != nil }
