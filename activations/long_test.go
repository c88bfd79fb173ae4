package activations

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
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

// resetHWM resets the peak RSS counter (Linux: write 5 to clear_refs).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// TestLongExtraction10kx100k extracts 10,000 synthetic stimuli x 100,489 features (a ReLU over
// a 317x317 input) and reports peak memory: raw features streamed to the cache (Store), and
// the same layer randomly projected to 256 features and returned in memory (Extract). It writes
// 4 GB to a temporary folder, so it runs only with VENTRAL_LONG=1.
func TestLongExtraction10kx100k(t *testing.T) {
	if testing.Short() || os.Getenv("VENTRAL_LONG") == "" {
		t.Skip("set VENTRAL_LONG=1 (writes 4 GB, about a minute)")
	}
	const n, side = 10000, 317
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
	report := func(what string, start time.Time) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%s: %.1f s, peak RSS (VmHWM) %.2f GB, Go heap sys %.2f GB", what, time.Since(start).Seconds(),
			float64(vmHWM())/1e9, float64(ms.HeapSys)/1e9)
		if h := vmHWM(); h > 4e9 {
			t.Errorf("%s: peak RSS %.2f GB over 4 GB", what, float64(h)/1e9)
		}
	}
	runtime.GC()
	resetHWM()
	start := time.Now()
	st, err := Store(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true, Batch: 64})
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(st.Layers[0].Path)
	t.Logf("entry %d bytes for %d x %d", fi.Size(), n, tensor.Numel(st.Layers[0].Shape))
	report("Store raw 10000 x 100489", start)

	runtime.GC()
	resetHWM()
	start = time.Now()
	r, err := Extract(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true, Batch: 64,
		Projection: Projection{Method: "random", K: 256, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Layers[0].Features; m.Rows != n || m.Cols != 256 {
		t.Fatalf("result %dx%d", m.Rows, m.Cols)
	}
	report("Extract random projection 10000 x 100489 -> 256", start)

	runtime.GC()
	resetHWM()
	start = time.Now()
	if _, err := Store(g, set, []string{"relu"}, Options{Dir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	report("Store hit (verify 4 GB entry)", start)
}
