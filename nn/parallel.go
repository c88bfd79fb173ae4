package nn

import (
	"sync"

	"github.com/ventral-lab/ventral/tensor"
)

// parallelRange splits [0, n) into at most tensor.Threads() contiguous parts and runs body on
// each in its own goroutine (the calling goroutine takes the first part). body receives the
// worker index and its range.
func parallelRange(n int, body func(worker, lo, hi int)) int {
	t := min(tensor.Threads(), n)
	if t <= 1 {
		if n > 0 {
			body(0, 0, n)
		}
		return 1
	}
	var wg sync.WaitGroup
	for w := 1; w < t; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			body(w, w*n/t, (w+1)*n/t)
		}(w)
	}
	body(0, 0, n/t)
	wg.Wait()
	return t
}

// splitRange splits [0, n) into workers contiguous parts and runs body on each in its own
// goroutine (the calling goroutine takes the first part).
func splitRange(n, workers int, body func(lo, hi int)) {
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			body(w*n/workers, (w+1)*n/workers)
		}(w)
	}
	body(0, n/workers)
	wg.Wait()
}

// scratch is a free list of float32 buffers shared by all ops and goroutines; buffers never
// escape a Forward or Backward call. Get takes the smallest buffer that is large enough, so a
// steady training loop stops allocating after its first step.
var scratch struct {
	sync.Mutex
	free [][]float32
}

func getScratch(n int) []float32 {
	scratch.Lock()
	best := -1
	for i, b := range scratch.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(scratch.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := scratch.free[best]
		last := len(scratch.free) - 1
		scratch.free[best] = scratch.free[last]
		scratch.free[last] = nil
		scratch.free = scratch.free[:last]
		scratch.Unlock()
		return b[:n]
	}
	scratch.Unlock()
	return make([]float32, n)
}

func putScratch(b []float32) {
	if cap(b) == 0 {
		return
	}
	scratch.Lock()
	defer scratch.Unlock()
	if len(scratch.free) >= 64 {
		// Drop the smallest buffer.
		small := 0
		for i, f := range scratch.free {
			if cap(f) < cap(scratch.free[small]) {
				small = i
			}
		}
		if cap(scratch.free[small]) >= cap(b) {
			return
		}
		scratch.free[small] = b
		return
	}
	scratch.free = append(scratch.free, b)
}
