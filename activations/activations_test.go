package activations

import (
	"bytes"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

func tinyModel(t testing.TB) *nn.Graph {
	g := &nn.Graph{Name: "tiny", InputShape: []int{1, 6, 6}}
	g.Chain("flat", &nn.Flatten{}).Chain("fc1", &nn.Dense{Out: 20}).Chain("relu1", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 5})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if err := (stimuli.Preprocess{Size: 6, Grey: true}).ToMeta(g); err != nil {
		t.Fatal(err)
	}
	return g
}

func randImages(n int, seed uint64) []*tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	imgs := make([]*tensor.Tensor, n)
	for i := range imgs {
		imgs[i] = tensor.New(3, 8, 8)
		for j := range imgs[i].Data {
			imgs[i].Data[j] = rng.Float32()
		}
	}
	return imgs
}

func tinySet(t testing.TB, imgs []*tensor.Tensor) *stimuli.Set {
	ids := make([]string, len(imgs))
	for i := range ids {
		ids[i] = string(rune('a' + i))
	}
	s, err := stimuli.FromTensors("tiny", ids, imgs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var layers = []string{"input", "fc1", "relu1", "fc2"}

func quiet(dir string) Options {
	return Options{Dir: dir, Quiet: true, Batch: 4}
}

func extract(t *testing.T, g *nn.Graph, s *stimuli.Set, o Options) *Result {
	t.Helper()
	r, err := Extract(g, s, layers, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sameData(a, b *Result) bool {
	for i := range a.Layers {
		if !slices.Equal(a.Layers[i].Features.Data, b.Layers[i].Features.Data) {
			return false
		}
	}
	return true
}

func TestHitIdenticalAndShapes(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t)
	s := tinySet(t, randImages(10, 1))
	r1 := extract(t, g, s, quiet(dir))
	for i, want := range []int{36, 20, 20, 5} {
		l := r1.Layers[i]
		if l.Cached || l.Features.Rows != 10 || l.Features.Cols != want || tensor.Numel(l.Shape) != want {
			t.Fatalf("layer %s: cached %v, %dx%d, shape %v", l.Name, l.Cached, l.Features.Rows, l.Features.Cols, l.Shape)
		}
	}
	r2 := extract(t, g, s, quiet(dir))
	for _, l := range r2.Layers {
		if !l.Cached {
			t.Fatalf("layer %s: second extraction missed the cache", l.Name)
		}
	}
	fresh := extract(t, g, s, Options{NoCache: true, Quiet: true, Batch: 3})
	if !sameData(r1, r2) || !sameData(r1, fresh) {
		t.Fatal("cache hit or other batch size differs from a fresh extraction")
	}
	d := r1.Layer("fc2").Features.Dense()
	if r, c := d.Dims(); r != 10 || c != 5 || d.At(3, 4) != r1.Layer("fc2").Features.At(3, 4) {
		t.Fatal("Dense conversion")
	}
	// the input layer is the preprocessed image: grey of the RGB pixels, resized 8 -> 6
	want, _ := stimuli.Preprocess{Size: 6, Grey: true}.Apply(randImages(10, 1)[2])
	if !slices.Equal(r1.Layer("input").Features.Row(2), want.Data) {
		t.Fatal("input layer is not the preprocessed image")
	}
}

func TestEveryInputChangesTheKey(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t)
	imgs := randImages(10, 1)
	s := tinySet(t, imgs)
	base := extract(t, g, s, quiet(dir))
	check := func(what string, r *Result) {
		t.Helper()
		for i, l := range r.Layers {
			if l.Cached || l.Key == base.Layers[i].Key {
				t.Errorf("%s: layer %s hit the cache", what, l.Name)
			}
		}
		if slices.Equal(r.Layer("fc2").Features.Data, base.Layer("fc2").Features.Data) {
			t.Errorf("%s: same numbers", what)
		}
	}
	// one weight
	g2 := tinyModel(t)
	g2.Node("fc1").Op.Params()[0].Value.Data[7] += 0.01
	r := extract(t, g2, s, quiet(dir))
	for _, l := range r.Layers {
		if l.Cached || l.Key == base.Layer(l.Name).Key {
			t.Errorf("weight: layer %s hit the cache", l.Name)
		}
	}
	if slices.Equal(r.Layer("fc2").Features.Data, base.Layer("fc2").Features.Data) {
		t.Error("weight: same numbers")
	}
	// one pixel
	imgs2 := randImages(10, 1)
	imgs2[4].Data[10] += 0.01
	check("pixel", extract(t, g, tinySet(t, imgs2), quiet(dir)))
	// one preprocessing number
	o := quiet(dir)
	o.Preprocess = &stimuli.Preprocess{Size: 6, Grey: true, Mean: []float32{0.01}, Std: []float32{1}}
	check("preprocess", extract(t, g, s, o))
	// projection settings
	o = quiet(dir)
	o.Projection = Projection{Method: "random", K: 4, Seed: 1}
	r1 := extract(t, g, s, o)
	o.Projection.Seed = 2
	r2 := extract(t, g, s, o)
	if r2.Layers[1].Cached || r1.Layers[1].Key == r2.Layers[1].Key || slices.Equal(r1.Layers[1].Features.Data, r2.Layers[1].Features.Data) {
		t.Error("projection seed: cache hit or same numbers")
	}
	// and the baseline is still served unchanged
	again := extract(t, g, s, quiet(dir))
	if !again.Layers[3].Cached || !sameData(again, base) {
		t.Error("baseline entry changed")
	}
}

func TestCorruptEntriesAreMisses(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t)
	s := tinySet(t, randImages(10, 1))
	base := extract(t, g, s, quiet(dir))
	path := base.Layer("fc1").Path
	orig, _ := os.ReadFile(path)
	for _, damage := range []struct {
		name string
		do   func() []byte
	}{
		{"flipped byte", func() []byte { b := slices.Clone(orig); b[len(b)-100] ^= 1; return b }},
		{"truncated", func() []byte { return orig[:len(orig)-37] }},
		{"empty", func() []byte { return nil }},
		{"garbage header", func() []byte { b := slices.Clone(orig); b[14] = '#'; return b }},
	} {
		os.WriteFile(path, damage.do(), 0o644)
		var warned []string
		o := quiet(dir)
		o.Warn = func(m string) { warned = append(warned, m) }
		r := extract(t, g, s, o)
		if r.Layer("fc1").Cached || !r.Layer("fc2").Cached {
			t.Errorf("%s: corrupt entry used, or others recomputed", damage.name)
		}
		if len(warned) != 1 || !strings.Contains(warned[0], path) {
			t.Errorf("%s: warnings %q", damage.name, warned)
		}
		if !sameData(r, base) {
			t.Errorf("%s: recomputed numbers differ", damage.name)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, orig) {
			t.Errorf("%s: entry not rewritten", damage.name)
		}
	}
}

func TestStoreAndOpen(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t)
	s := tinySet(t, randImages(10, 1))
	st, err := Store(g, s, layers, quiet(dir))
	if err != nil {
		t.Fatal(err)
	}
	r := extract(t, g, s, quiet(dir))
	for i, l := range st.Layers {
		if l.Features != nil || !r.Layers[i].Cached {
			t.Fatal("Store held features, or Extract missed its entries")
		}
		rd, err := Open(l.Path)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, rd.Cols)
		for k := 0; k < rd.Rows; k++ {
			if err := rd.Next(row); err != nil || !slices.Equal(row, r.Layers[i].Features.Row(k)) {
				t.Fatalf("row %d: %v", k, err)
			}
		}
		rd.Close()
	}
}

func TestProjection(t *testing.T) {
	g := tinyModel(t)
	s := tinySet(t, randImages(12, 3))
	o := Options{NoCache: true, Quiet: true, Batch: 5, Projection: Projection{Method: "random", K: 8, Seed: 7}}
	r1 := extract(t, g, s, o)
	r2 := extract(t, g, s, o)
	if c := r1.Layer("fc1").Features.Cols; c != 8 || r1.Layer("fc2").Features.Cols != 5 || r1.Layer("input").Features.Cols != 8 {
		t.Fatalf("random projection cols: fc1 %d, fc2 %d", c, r1.Layer("fc2").Features.Cols)
	}
	if !sameData(r1, r2) {
		t.Fatal("random projection not deterministic")
	}
	// PCA fitted on the first 10 stimuli
	o.Projection = Projection{Method: "pca", K: 3, FitN: 10}
	p1 := extract(t, g, s, o)
	p2 := extract(t, g, s, o)
	if !sameData(p1, p2) {
		t.Fatal("PCA not deterministic")
	}
	m := p1.Layer("fc1").Features
	if m.Cols != 3 || m.Rows != 12 {
		t.Fatalf("PCA shape %dx%d", m.Rows, m.Cols)
	}
	var mean, v [3]float64
	for i := 0; i < 10; i++ {
		for c := 0; c < 3; c++ {
			mean[c] += m.At(i, c) / 10
		}
	}
	for i := 0; i < 10; i++ {
		for c := 0; c < 3; c++ {
			v[c] += (m.At(i, c) - mean[c]) * (m.At(i, c) - mean[c])
		}
	}
	for c := 0; c < 3; c++ {
		if math.Abs(mean[c]) > 1e-3*math.Sqrt(v[0]) {
			t.Fatalf("PCA scores of the fit set not centred: %v", mean)
		}
	}
	if !(v[0] >= v[1] && v[1] >= v[2] && v[2] > 0) {
		t.Fatalf("PCA variances not decreasing: %v", v)
	}
	// fitted on another set
	o.Projection = Projection{Method: "pca", K: 3, Fit: tinySet(t, randImages(6, 9))}
	p3 := extract(t, g, s, o)
	if p3.Layer("fc1").Features.Cols != 3 || sameData(p1, p3) {
		t.Fatal("PCA on another fit set")
	}
	o.Projection = Projection{Method: "pca", K: 30, FitN: 10}
	if _, err := Extract(g, s, []string{"input"}, o); err == nil {
		t.Fatal("PCA with K > fit stimuli: no error")
	}
}

func TestRandomProjectionPreservesDistances(t *testing.T) {
	for _, name := range []string{"random", "sketch"} {
		t.Run(name, func(t *testing.T) { testPreservesDistances(t, name) })
	}
}

// The sketch's output buckets hold the signed sums of their features, computed directly.
func TestSketchBuckets(t *testing.T) {
	const f, k = 50, 7
	p := sketchProjector(f, k, 3)
	x := make([]float32, f)
	for j := range x {
		x[j] = float32(j + 1)
	}
	want := make([]float64, k)
	for j, v := range x {
		if s := p.sign[j]; s != 1 && s != -1 {
			t.Fatalf("sign %v", s)
		}
		want[p.bucket[j]] += float64(p.sign[j]) * float64(v)
	}
	y := make([]float32, k)
	p.apply(x, 1, y)
	for b := range y {
		if float64(y[b]) != want[b] {
			t.Fatalf("bucket %d: %v, want %v", b, y[b], want[b])
		}
	}
	q := sketchProjector(f, k, 3)
	for j := range q.bucket {
		if q.bucket[j] != p.bucket[j] || q.sign[j] != p.sign[j] {
			t.Fatal("the same seed gave another sketch")
		}
	}
}

func testPreservesDistances(t *testing.T, method string) {
	const n, f, k = 30, 3000, 800
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, n*f)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	p := randomProjector(f, k, 11)
	if method == "sketch" {
		p = sketchProjector(f, k, 11)
	}
	y := make([]float32, n*k)
	p.apply(x, n, y)
	dist := func(a []float32, d, i, j int) float64 {
		var s float64
		for c := 0; c < d; c++ {
			e := float64(a[i*d+c] - a[j*d+c])
			s += e * e
		}
		return s
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			worst = max(worst, math.Abs(dist(y, k, i, j)/dist(x, f, i, j)-1))
		}
	}
	// JL: with k=800 squared distances of 435 pairs stay within ~ 4.5 sqrt(2/k) = 22%.
	if worst > 0.22 {
		t.Fatalf("%s projection distorts squared distances by up to %.1f%%", method, 100*worst)
	}
	t.Logf("%s: worst squared-distance distortion %.1f%%", method, 100*worst)
}

func TestErrors(t *testing.T) {
	g := tinyModel(t)
	s := tinySet(t, randImages(3, 1))
	o := Options{NoCache: true, Quiet: true}
	if _, err := Extract(g, s, []string{"fc9"}, o); err == nil || !strings.Contains(err.Error(), "fc9") {
		t.Errorf("unknown layer: %v", err)
	}
	o.Preprocess = &stimuli.Preprocess{Size: 7, Grey: true}
	if _, err := Extract(g, s, []string{"fc1"}, o); err == nil || !strings.Contains(err.Error(), "[1 7 7]") {
		t.Errorf("wrong input size: %v", err)
	}
	delete(g.Meta, stimuli.MetaKey)
	if _, err := Extract(g, s, []string{"fc1"}, Options{NoCache: true, Quiet: true}); err == nil || !strings.Contains(err.Error(), "preprocessing") {
		t.Errorf("no preprocessing: %v", err)
	}
	if _, err := Extract(tinyModel(t), s, []string{"fc1"}, Options{NoCache: true, Quiet: true, Projection: Projection{Method: "svd", K: 2}}); err == nil {
		t.Error("unknown projection: no error")
	}
}

func TestProgressAndDefaultDir(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	if !strings.HasPrefix(DefaultDir(), os.Getenv("VENTRAL_HOME")) {
		t.Fatal(DefaultDir())
	}
	var buf bytes.Buffer
	r, err := Extract(tinyModel(t), tinySet(t, randImages(5, 1)), []string{"fc2"}, Options{Progress: &buf})
	if err != nil || !strings.HasPrefix(r.Layers[0].Path, DefaultDir()) {
		t.Fatal(err, r.Layers[0].Path)
	}
	if !strings.Contains(buf.String(), "activations tiny") {
		t.Fatalf("progress output %q", buf.String())
	}
}

// Extractions of the same layers into one cache at once (as grid tasks on a shared folder do)
// compute each entry once: the others wait for its lock and read it. Every result equals a
// fresh extraction, every entry verifies, and no temporary file is left behind.
func TestConcurrentWritersComputeOnce(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t)
	s := tinySet(t, randImages(40, 3))
	fresh := extract(t, g, s, Options{NoCache: true, Quiet: true, Batch: 4})
	const n = 6
	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = Extract(g, s, layers, Options{Dir: dir, Quiet: true, Batch: 1})
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !sameData(r, fresh) {
			t.Fatalf("extraction %d differs from a fresh one", i)
		}
	}
	for j, name := range layers {
		computed := 0
		for _, r := range results {
			if !r.Layers[j].Cached {
				computed++
			}
		}
		if computed != 1 {
			t.Errorf("layer %s computed %d times by %d concurrent extractions, want once", name, computed, n)
		}
		if _, _, err := readEntry(results[0].Layers[j].Path, results[0].Layers[j].Key, false); err != nil {
			t.Errorf("layer %s: %v", name, err)
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
