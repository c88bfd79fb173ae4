package activations

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// vmHWM returns the peak resident set size in bytes (Linux), or 0.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// vmRSS returns the resident set size in bytes (Linux), or 0.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetHWM resets the peak RSS counter (Linux: write 5 to clear_refs).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkLongExtraction10kx100k extracts 10,000 synthetic stimuli x 100,489 features (a ReLU
// over a 317x317 input): raw features streamed to the cache (Store), and the same layer randomly
// projected to 256 features and returned in memory (Extract), reporting seconds and peak RSS.
// It writes 4 GB to a temporary folder: run it by name (go test -run - -bench
// LongExtraction ./activations). TestExtractionMemoryBounded checks the same claim at CI size.
func BenchmarkLongExtraction10kx100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		peaks := extractionPeaks(b, 10000, 317)
		for what, p := range peaks {
			b.ReportMetric(float64(p)/1e9, "peakGB_"+what)
		}
	}
}

// Streaming keeps memory to a batch, not the data set: 3,000 stimuli x 40,000 features are
// 480 MB as float32, and neither Store (streaming to the cache), Extract with a 256-feature
// projection (41 MB of projection matrix), nor re-verifying the cache entry may raise the peak
// RSS by half of that (measured: about 80, 143 and 2 MB, the same at 1,500 stimuli). Holding
// the whole layer in memory, or reading the entry back whole, fails it.
func TestExtractionMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 480 MB")
	}
	if vmHWM() == 0 {
		t.Skip("no /proc/self/status VmHWM here")
	}
	const n, side = 3000, 200
	data := int64(n) * side * side * 4
	limit := data / 2
	for what, p := range extractionPeaks(t, n, side) {
		t.Logf("%s: peak RSS rise %.0f MB (data set %.0f MB, limit %.0f MB)", what, float64(p)/1e6, float64(data)/1e6, float64(limit)/1e6)
		if p > limit {
			t.Errorf("%s: peak RSS rose by %.0f MB, over %.0f MB (half the %.0f MB data set)", what, float64(p)/1e6, float64(limit)/1e6, float64(data)/1e6)
		}
	}
}

// extractionPeaks runs Store, Extract with a random projection, and a cache hit over n synthetic
// stimuli through a ReLU over a side x side input, and returns each one's rise of the peak RSS
// over the RSS before it.
func extractionPeaks(t testing.TB, n, side int) map[string]int64 {
	t.Helper()
	g := &nn.Graph{Name: "synthetic", InputShape: []int{1, side, side}}
	g.Chain("relu", nn.ReLU()).Chain("fc", &nn.Dense{Out: 10})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if err := (stimuli.Preprocess{Size: side, Mean: []float32{0.5}, Std: []float32{0.25}}).ToMeta(g); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%05d", i)
	}
	set, err := stimuli.FromFunc("synthetic", ids, func(i int) (*tensor.Tensor, error) {
		img := tensor.New(1, 32, 32)
		for j := range img.Data {
			h := uint32(i*1024+j) * 2654435761
			img.Data[j] = float32(h>>8) / float32(1<<24)
		}
		return img, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	peaks := map[string]int64{}
	measure := func(what string, f func()) {
		runtime.GC()
		debug.FreeOSMemory()
		base := vmRSS()
		resetHWM()
		start := time.Now()
		f()
		peaks[what] = vmHWM() - base
		t.Logf("%s: %.1f s", what, time.Since(start).Seconds())
	}
	measure("store", func() {
		if _, err := Store(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true, Batch: 64}); err != nil {
			t.Fatal(err)
		}
	})
	measure("extract", func() {
		r, err := Extract(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true, Batch: 64,
			Projection: Projection{Method: "random", K: 256, Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if m := r.Layers[0].Features; m.Rows != n || m.Cols != 256 {
			t.Fatalf("result %dx%d", m.Rows, m.Cols)
		}
	})
	measure("cache hit", func() {
		if _, err := Store(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true}); err != nil {
			t.Fatal(err)
		}
	})
	return peaks
}
