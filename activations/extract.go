// Package activations extracts the outputs of named layers of an nn.Graph for every stimulus
// of a stimulus set, in batches, through a content-addressed on-disk cache.
//
// A cache entry's key is a sha256 over the format version, the model digest (spec and
// weights), the set's image digest (ids, pixels, presentation size), the preprocessing digest,
// the layer name and the projection settings; any changed input therefore gives a different
// key, never a stale entry. Rows stream to disk batch by batch, so memory holds one batch of
// every requested layer plus the result being returned (none for Store).
package activations

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
	"gonum.org/v1/gonum/mat"
)

// Options controls extraction. The zero value extracts in batches of 32 through the default
// cache with a progress bar, using the preprocessing the model declares in its Meta.
type Options struct {
	Batch int    // stimuli per forward pass (default 32)
	Dir   string // cache folder (default DefaultDir())
	// NoCache computes everything afresh and writes nothing.
	NoCache bool
	// Quiet hides the progress bar; Progress is where it is drawn (default os.Stderr).
	Quiet    bool
	Progress io.Writer
	// Warn receives warnings such as corrupt cache entries (default: printed to stderr).
	Warn func(msg string)
	// Preprocess overrides the model's declared preprocessing (stimuli.FromMeta).
	Preprocess *stimuli.Preprocess
	Projection Projection
}

// DefaultDir is $VENTRAL_HOME/activations, or ~/.cache/ventral/activations.
func DefaultDir() string { return filepath.Join(datasets.Home(), "activations") }

// Matrix is a dense row-major float32 stimuli x features matrix.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// Row returns row i (a view).
func (m *Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m *Matrix) At(i, j int) float64 { return float64(m.Data[i*m.Cols+j]) }

// Dense converts to a gonum float64 matrix (a copy).
func (m *Matrix) Dense() *mat.Dense {
	d := make([]float64, len(m.Data))
	for i, v := range m.Data {
		d[i] = float64(v)
	}
	return mat.NewDense(m.Rows, m.Cols, d)
}

// Layer is one layer's activations.
type Layer struct {
	Name  string
	Shape []int  // the layer's per-sample output shape (before projection)
	Key   string // cache key
	Path  string // cache entry ("" with NoCache)
	// Cached reports that the entry was read from the cache rather than computed.
	Cached bool
	// Features is stimuli x features (projected if a projection applies); nil from Store.
	Features *Matrix
}

// Result holds the requested layers in request order.
type Result struct {
	Layers []*Layer
}

// Layer returns the layer with the given name, or nil.
func (r *Result) Layer(name string) *Layer {
	for _, l := range r.Layers {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Extract returns the activations of layers (node names, or nn.InputName for the model input)
// for every stimulus of set, from the cache where a valid entry exists and computed (and
// cached) otherwise. The same inputs always give the same numbers.
func Extract(g *nn.Graph, set *stimuli.Set, layers []string, o Options) (*Result, error) {
	return run(g, set, layers, o, true)
}

// Store makes sure the cache holds every requested layer and returns their entries (Path,
// Shape, Key) without loading them; read one with Open. Memory stays at one batch.
func Store(g *nn.Graph, set *stimuli.Set, layers []string, o Options) (*Result, error) {
	if o.NoCache {
		return nil, fmt.Errorf("activations: Store needs the cache (NoCache is set)")
	}
	return run(g, set, layers, o, false)
}

type keyParts struct {
	Format     string `json:"format"`
	Model      string `json:"model"`
	Stimuli    string `json:"stimuli"`
	Preprocess string `json:"preprocess"`
	Layer      string `json:"layer"`
	Projection string `json:"projection"`
	K          int    `json:"k,omitempty"`
	Seed       uint64 `json:"seed,omitempty"`
	Fit        string `json:"fit,omitempty"`
	FitN       int    `json:"fit_n,omitempty"`
}

// Key is the cache key of one layer: a sha256 over its inputs' digests and the settings.
func (k keyParts) Key() string {
	b, _ := json.Marshal(k)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func layerShape(g *nn.Graph, name string) ([]int, error) {
	if name == nn.InputName {
		return append([]int(nil), g.InputShape...), nil
	}
	n, _, err := g.ResolveLayer(name)
	if err != nil {
		return nil, fmt.Errorf("activations: %w", err)
	}
	return append([]int(nil), n.Shape...), nil
}

func run(g *nn.Graph, set *stimuli.Set, layers []string, o Options, keep bool) (*Result, error) {
	if !g.Built() {
		return nil, fmt.Errorf("activations: model %q is not built", g.Name)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("activations: no layers requested")
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("activations: stimulus set %s is empty", set.Name)
	}
	if err := o.Projection.validate(); err != nil {
		return nil, err
	}
	if o.Batch <= 0 {
		o.Batch = 32
	}
	if o.Dir == "" {
		o.Dir = DefaultDir()
	}
	if o.Warn == nil {
		o.Warn = func(msg string) { fmt.Fprintln(os.Stderr, "ventral: warning:", msg) }
	}
	var p stimuli.Preprocess
	if o.Preprocess != nil {
		p = *o.Preprocess
	} else {
		var ok bool
		var err error
		if p, ok, err = stimuli.FromMeta(g); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("activations: model %q declares no preprocessing (Meta[%q]); set Options.Preprocess", g.Name, stimuli.MetaKey)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	md, err := g.Digest()
	if err != nil {
		return nil, err
	}
	sd, err := set.ImageDigest()
	if err != nil {
		return nil, err
	}
	pr := o.Projection
	var fitSet *stimuli.Set
	fitDigest := ""
	if pr.Method == "pca" {
		fitSet = pr.Fit
		if fitSet == nil {
			fitSet = set
			if pr.FitN == 0 {
				pr.FitN = min(1000, set.Len())
			}
		}
		if pr.FitN > 0 {
			fitSet = fitSet.Head(pr.FitN)
		}
		if fitDigest, err = fitSet.ImageDigest(); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	var miss []*Layer
	seen := map[string]bool{}
	for _, name := range layers {
		if seen[name] {
			return nil, fmt.Errorf("activations: layer %q requested twice", name)
		}
		seen[name] = true
		shape, err := layerShape(g, name)
		if err != nil {
			return nil, err
		}
		k := keyParts{Format: FormatVersion, Model: md, Stimuli: sd, Preprocess: p.Digest(), Layer: name, Projection: pr.Method}
		if pr.Method != "" {
			k.K = pr.K
		}
		if pr.Method == "random" || pr.Method == "sketch" {
			k.Seed = pr.Seed
		}
		if pr.Method == "pca" {
			k.Fit, k.FitN = fitDigest, fitSet.Len()
		}
		l := &Layer{Name: name, Shape: shape, Key: k.Key()}
		res.Layers = append(res.Layers, l)
		if o.NoCache {
			miss = append(miss, l)
			continue
		}
		l.Path = entryPath(o.Dir, l.Key)
		hd, data, err := readEntry(l.Path, l.Key, keep)
		switch {
		case err == nil:
			l.Cached = true
			if keep {
				l.Features = &Matrix{Rows: hd.Rows, Cols: hd.Cols, Data: data}
			}
			continue
		case errors.Is(err, errCorrupt):
			o.Warn(fmt.Sprintf("activations: %v; recomputing layer %q", err, name))
		case !errors.Is(err, os.ErrNotExist):
			o.Warn(fmt.Sprintf("activations: reading %s: %v; recomputing layer %q", l.Path, err, name))
		}
		miss = append(miss, l)
	}
	if len(miss) == 0 {
		return res, nil
	}
	if !o.NoCache {
		// Another process may be computing the same entries: wait for its locks, then take
		// what it wrote and compute only what is still missing.
		keys := make([]string, len(miss))
		for i, l := range miss {
			keys[i] = l.Key
		}
		unlock, err := lockEntries(o.Dir, keys)
		if err != nil {
			return nil, fmt.Errorf("activations: cache %s: %w", o.Dir, err)
		}
		defer unlock()
		still := miss[:0]
		for _, l := range miss {
			if hd, data, err := readEntry(l.Path, l.Key, keep); err == nil {
				l.Cached = true
				if keep {
					l.Features = &Matrix{Rows: hd.Rows, Cols: hd.Cols, Data: data}
				}
				continue
			}
			still = append(still, l)
		}
		if miss = still; len(miss) == 0 {
			return res, nil
		}
	}
	if err := compute(g, set, fitSet, p, miss, o, pr, keep); err != nil {
		return nil, err
	}
	return res, nil
}

// compute runs the model over the set for the missing layers, streaming rows to cache entries
// (and to in-memory matrices when keep).
func compute(g *nn.Graph, set, fitSet *stimuli.Set, p stimuli.Preprocess, miss []*Layer, o Options, pr Projection, keep bool) error {
	total := set.Len()
	if fitSet != nil {
		total += fitSet.Len()
	}
	var bar *progressbar.ProgressBar
	if !o.Quiet {
		w := o.Progress
		if w == nil {
			w = os.Stderr
		}
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("activations "+g.Name), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetPredictTime(true))
		defer fmt.Fprintln(w)
	}
	names := make([]string, len(miss))
	feats := make([]int, len(miss))
	for i, l := range miss {
		names[i] = l.Name
		feats[i] = tensor.Numel(l.Shape)
	}
	proj := make([]*projector, len(miss))
	switch pr.Method {
	case "random":
		for i, f := range feats {
			if f > pr.K {
				proj[i] = randomProjector(f, pr.K, pr.Seed)
			}
		}
	case "sketch":
		for i, f := range feats {
			if f > pr.K {
				proj[i] = sketchProjector(f, pr.K, pr.Seed)
			}
		}
	case "pca":
		var fitIdx []int
		for i, f := range feats {
			if f > pr.K {
				fitIdx = append(fitIdx, i)
			}
		}
		if len(fitIdx) > 0 {
			n := fitSet.Len()
			fitNames := make([]string, len(fitIdx))
			rows := make([][]float32, len(fitIdx))
			for j, i := range fitIdx {
				fitNames[j] = names[i]
				rows[j] = make([]float32, n*feats[i])
			}
			err := forBatches(g, fitSet, p, fitNames, o.Batch, bar, func(start, cnt int, outs [][]float32) error {
				for j, i := range fitIdx {
					copy(rows[j][start*feats[i]:], outs[j][:cnt*feats[i]])
				}
				return nil
			})
			if err != nil {
				return err
			}
			for j, i := range fitIdx {
				if proj[i], err = pcaProjector(rows[j], n, feats[i], pr.K); err != nil {
					return fmt.Errorf("layer %q: %w", names[i], err)
				}
				rows[j] = nil
			}
		}
	}
	cols := make([]int, len(miss))
	writers := make([]*entryWriter, len(miss))
	defer func() {
		for _, w := range writers {
			if w != nil {
				w.abort()
			}
		}
	}()
	bufs := make([][]float32, len(miss))
	for i, l := range miss {
		cols[i] = feats[i]
		if proj[i] != nil {
			cols[i] = pr.K
			bufs[i] = make([]float32, o.Batch*pr.K)
		}
		if keep {
			l.Features = &Matrix{Rows: set.Len(), Cols: cols[i], Data: make([]float32, set.Len()*cols[i])}
		}
		if !o.NoCache {
			w, err := newEntryWriter(l.Path, Header{Key: l.Key, Layer: l.Name, Shape: l.Shape, Rows: set.Len(), Cols: cols[i], DType: "float32"})
			if err != nil {
				return fmt.Errorf("activations: cache: %w", err)
			}
			writers[i] = w
		}
	}
	err := forBatches(g, set, p, names, o.Batch, bar, func(start, cnt int, outs [][]float32) error {
		for i, l := range miss {
			rows := outs[i][:cnt*feats[i]]
			if proj[i] != nil {
				proj[i].apply(rows, cnt, bufs[i])
				rows = bufs[i][:cnt*pr.K]
			}
			if l.Features != nil {
				copy(l.Features.Data[start*cols[i]:], rows)
			}
			if writers[i] != nil {
				if err := writers[i].writeRows(rows); err != nil {
					return fmt.Errorf("activations: writing %s: %w", l.Path, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, w := range writers {
		if w != nil {
			writers[i] = nil
			if err := w.commit(); err != nil {
				return fmt.Errorf("activations: cache: %w", err)
			}
		}
	}
	if bar != nil {
		bar.Finish()
	}
	return nil
}

// forBatches preprocesses the stimuli batch by batch (images in parallel), runs the model and
// hands fn each requested layer's rows (valid until fn returns).
func forBatches(g *nn.Graph, set *stimuli.Set, p stimuli.Preprocess, names []string, batch int, bar *progressbar.ProgressBar, fn func(start, n int, outs [][]float32) error) error {
	var keepNames []string
	for _, n := range nn.KeepNodes(names) {
		if n != nn.InputName {
			keepNames = append(keepNames, n)
		}
	}
	per := tensor.Numel(g.InputShape)
	xbuf := make([]float32, batch*per)
	ctx := nn.NewCtx(false, 0)
	workers := max(1, runtime.GOMAXPROCS(0))
	outs := make([][]float32, len(names))
	for start := 0; start < set.Len(); start += batch {
		n := min(batch, set.Len()-start)
		x := tensor.FromData(xbuf[:n*per], append([]int{n}, g.InputShape...)...)
		errs := make([]error, n)
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < min(workers, n); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					errs[i] = prepare(set, p, start+i, g, x.Data[i*per:(i+1)*per])
				}
			}()
		}
		for i := 0; i < n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		tr, err := g.Forward(ctx, x, keepNames...)
		if err != nil {
			return err
		}
		for i, name := range names {
			if name == nn.InputName {
				outs[i] = x.Data
				continue
			}
			t := tr.Layer(name)
			if t == nil {
				return fmt.Errorf("activations: model %q: layer %q produced no output", g.Name, name)
			}
			outs[i] = t.Data
		}
		if err := fn(start, n, outs); err != nil {
			return err
		}
		ctx.Reset()
		if bar != nil {
			bar.Add(n)
		}
	}
	return nil
}

func prepare(set *stimuli.Set, p stimuli.Preprocess, i int, g *nn.Graph, dst []float32) error {
	img, err := set.Image(i)
	if err != nil {
		return err
	}
	t, err := p.ApplyAt(img, set.Degrees)
	if err != nil {
		return fmt.Errorf("stimulus set %s: stimulus %q: %w", set.Name, set.ID(i), err)
	}
	if !tensor.SameShape(t.Shape, g.InputShape) {
		return fmt.Errorf("activations: stimulus %q of %s preprocesses to %v but model %q takes %v (check the preprocessing size and channels)",
			set.ID(i), set.Name, t.Shape, g.Name, g.InputShape)
	}
	copy(dst, t.Data)
	return nil
}
