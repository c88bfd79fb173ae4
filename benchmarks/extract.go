package benchmarks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/formats/mat"
	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// StimulusSet is what a benchmark shows a model: ordered stimuli with ids and [C H W] images
// with values in [0,1]. (*stimuli.Set satisfies it.)
type StimulusSet interface {
	Len() int
	IDs() []string
	Image(i int) (*tensor.Tensor, error)
}

// StimulusLoader loads the named set (split is "" or a split name such as "train").
type StimulusLoader func(set, split string) (StimulusSet, error)

// LoadStimuli loads the stimulus sets named in specs. It may be replaced (for example by one
// built on package stimuli); the default knows kriegeskorte92 (ids "1".."92", RDM order) and
// allen-mouse-v1 (splits train and test, ids "0".. in row order).
var LoadStimuli StimulusLoader = builtinStimuli

type memSet struct {
	name string
	ids  []string
	imgs []*tensor.Tensor
}

func (m *memSet) Len() int                            { return len(m.ids) }
func (m *memSet) IDs() []string                       { return append([]string(nil), m.ids...) }
func (m *memSet) Image(i int) (*tensor.Tensor, error) { return m.imgs[i], nil }

func builtinStimuli(set, split string) (StimulusSet, error) {
	switch set {
	case "kriegeskorte92":
		if split != "" {
			return nil, fmt.Errorf("stimulus set kriegeskorte92 has no split %q", split)
		}
		p, err := datasets.Resolve("kriegeskorte92", "Kriegeskorte_Neuron2008_supplementalData.mat")
		if err != nil {
			return nil, err
		}
		f, err := mat.Open(p)
		if err != nil {
			return nil, err
		}
		v, err := f.Var("stimuli_92objs")
		if err != nil {
			return nil, err
		}
		m := &memSet{name: set}
		for i := 0; i < v.Len(); i++ {
			el, err := v.Index(i)
			if err != nil {
				return nil, err
			}
			iv, err := el.Field("image")
			if err != nil {
				return nil, err
			}
			px, dims, err := iv.Uint8s()
			if err != nil {
				return nil, err
			}
			if len(dims) != 3 || dims[2] != 3 {
				return nil, fmt.Errorf("%s: stimuli_92objs element %d: image dims %v, expected H x W x 3", filepath.Base(p), i+1, dims)
			}
			H, W := dims[0], dims[1]
			t := tensor.New(3, H, W)
			for c := 0; c < 3; c++ {
				for y := 0; y < H; y++ {
					for x := 0; x < W; x++ {
						t.Data[(c*H+y)*W+x] = float32(px[y+H*x+H*W*c]) / 255
					}
				}
			}
			m.ids = append(m.ids, fmt.Sprint(i+1))
			m.imgs = append(m.imgs, t)
		}
		return m, nil
	case "allen-mouse-v1":
		if split != "train" && split != "test" {
			return nil, fmt.Errorf("stimulus set allen-mouse-v1: unknown split %q (train or test)", split)
		}
		p, err := datasets.Resolve("allen-mouse-v1", "Allen_"+split+"_input.npy")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		data, dims, err := neural.DecodeNPY(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
		}
		if len(dims) != 2 || dims[1] != 31*31 {
			return nil, fmt.Errorf("%s: dims %v, expected N x 961 (31x31 images)", filepath.Base(p), dims)
		}
		m := &memSet{name: set + "/" + split}
		for i := 0; i < dims[0]; i++ {
			t := tensor.New(1, 31, 31)
			for k := range t.Data {
				t.Data[k] = float32(data[i*961+k] / 255)
			}
			m.ids = append(m.ids, fmt.Sprint(i))
			m.imgs = append(m.imgs, t)
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown stimulus set %q (known: kriegeskorte92, allen-mouse-v1)", set)
}

// fitInput converts a [C H W] image in [0,1] to the model's input shape: RGB to luminance or
// grey to three channels, then area averaging (shrinking) or bilinear interpolation (growing)
// per axis.
func fitInput(img *tensor.Tensor, shape []int) (*tensor.Tensor, error) {
	if len(shape) != 3 || len(img.Shape) != 3 {
		return nil, fmt.Errorf("model input %v: expected [C H W] images", shape)
	}
	C, H, W := shape[0], shape[1], shape[2]
	c0, h0, w0 := img.Shape[0], img.Shape[1], img.Shape[2]
	src := img.Data
	switch {
	case c0 == C:
	case c0 == 3 && C == 1:
		g := make([]float32, h0*w0)
		for i := range g {
			g[i] = 0.299*src[i] + 0.587*src[h0*w0+i] + 0.114*src[2*h0*w0+i]
		}
		src = g
	case c0 == 1 && C == 3:
		g := make([]float32, 3*h0*w0)
		for c := 0; c < 3; c++ {
			copy(g[c*h0*w0:], src)
		}
		src = g
	default:
		return nil, fmt.Errorf("cannot turn %d-channel stimuli into %d-channel model input", c0, C)
	}
	wy := axisTaps(h0, H)
	wx := axisTaps(w0, W)
	out := tensor.New(C, H, W)
	tmp := make([]float32, h0*W)
	for c := 0; c < C; c++ {
		plane := src[c*h0*w0 : (c+1)*h0*w0]
		for y := 0; y < h0; y++ {
			for x := 0; x < W; x++ {
				var s float64
				for _, t := range wx[x] {
					s += t.w * float64(plane[y*w0+t.i])
				}
				tmp[y*W+x] = float32(s)
			}
		}
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				var s float64
				for _, t := range wy[y] {
					s += t.w * float64(tmp[t.i*W+x])
				}
				out.Data[(c*H+y)*W+x] = float32(s)
			}
		}
	}
	return out, nil
}

type tap struct {
	i int
	w float64
}

func axisTaps(in, out int) [][]tap {
	taps := make([][]tap, out)
	scale := float64(in) / float64(out)
	for o := 0; o < out; o++ {
		if in >= out { // area averaging over [o*scale, (o+1)*scale)
			a, b := float64(o)*scale, float64(o+1)*scale
			for i := int(math.Floor(a)); i < int(math.Ceil(b)) && i < in; i++ {
				ov := math.Min(b, float64(i+1)) - math.Max(a, float64(i))
				if ov > 0 {
					taps[o] = append(taps[o], tap{i, ov / scale})
				}
			}
			continue
		}
		p := (float64(o)+0.5)*scale - 0.5
		p = math.Max(0, math.Min(p, float64(in-1)))
		i0 := int(math.Floor(p))
		i1 := min(i0+1, in-1)
		f := p - float64(i0)
		taps[o] = []tap{{i0, 1 - f}, {i1, f}}
	}
	return taps
}

// Features is one layer's responses: a row-major stimuli x features float32 matrix.
type Features struct {
	Layer string
	Rows  int
	Cols  int
	Data  []float32
}

// DefaultLayers lists every node whose output is a feature map or vector: all but the loss and
// softmax nodes.
func DefaultLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		t := strings.ToLower(n.Op.Type())
		if strings.Contains(t, "softmax") || strings.Contains(t, "loss") || strings.Contains(t, "cross_entropy") {
			continue
		}
		out = append(out, n.Name)
	}
	return out
}

// extract runs the model over the stimuli in batches (each stimulus preprocessed as the
// model's metadata says, see stimuli.FromMeta, then fitted to its input shape) and returns each layer's features (the
// output at the last time step, flattened). With cacheDir set, features are stored under a
// key of the model digest, the stimulus set and the layer, and read back on the next call.
func extract(g *nn.Graph, setKey string, set StimulusSet, layers []string, cacheDir string) ([]*Features, error) {
	out := make([]*Features, len(layers))
	var keys []string
	var todo []int
	if cacheDir != "" {
		dig, err := g.Digest()
		if err != nil {
			return nil, err
		}
		for i, l := range layers {
			h := sha256.Sum256([]byte("ventral-activations-v1\x00" + dig + "\x00" + setKey + "\x00" + fmt.Sprint(set.Len()) + "\x00" + l))
			k := filepath.Join(cacheDir, hex.EncodeToString(h[:16])+".f32")
			keys = append(keys, k)
			if f, err := readFeatures(k, l); err == nil && f.Rows == set.Len() {
				out[i] = f
				continue
			}
			todo = append(todo, i)
		}
	} else {
		todo = identity(len(layers))
	}
	if len(todo) == 0 {
		return out, nil
	}
	keep := make([]string, len(todo))
	for j, i := range todo {
		keep[j] = layers[i]
		if g.Node(layers[i]) == nil {
			return nil, fmt.Errorf("model %q has no layer %q (layers: %s)", g.Name, layers[i], strings.Join(g.LayerNames(), ", "))
		}
	}
	pre, hasPre, err := stimuli.FromMeta(g)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", g.Name, err)
	}
	S := set.Len()
	const batch = 16
	per := tensor.Numel(g.InputShape)
	ctx := nn.NewCtx(false, 0)
	for start := 0; start < S; start += batch {
		n := min(batch, S-start)
		x := tensor.New(append([]int{n}, g.InputShape...)...)
		for k := 0; k < n; k++ {
			img, err := set.Image(start + k)
			if err != nil {
				return nil, err
			}
			in := img
			if hasPre {
				in, err = pre.Apply(img)
			}
			if err == nil {
				in, err = fitInput(in, g.InputShape)
			}
			if err != nil {
				return nil, fmt.Errorf("stimulus %d: %w", start+k, err)
			}
			copy(x.Data[k*per:], in.Data)
		}
		tr, err := g.Forward(ctx, x, keep...)
		if err != nil {
			return nil, err
		}
		for _, i := range todo {
			t := tr.Out(layers[i])
			if t == nil {
				return nil, fmt.Errorf("model %q: layer %q produced no output", g.Name, layers[i])
			}
			F := t.Len() / n
			if out[i] == nil {
				out[i] = &Features{Layer: layers[i], Rows: S, Cols: F, Data: make([]float32, S*F)}
			}
			copy(out[i].Data[start*F:], t.Data)
		}
		ctx.Reset()
	}
	if cacheDir != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, err
		}
		for _, i := range todo {
			if err := writeFeatures(keys[i], out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func writeFeatures(path string, f *Features) error {
	b := make([]byte, 8+4*len(f.Data))
	binary.LittleEndian.PutUint32(b, uint32(f.Rows))
	binary.LittleEndian.PutUint32(b[4:], uint32(f.Cols))
	for i, v := range f.Data {
		binary.LittleEndian.PutUint32(b[8+4*i:], math.Float32bits(v))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readFeatures(path, layer string) (*Features, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("short cache file")
	}
	r, c := int(binary.LittleEndian.Uint32(b)), int(binary.LittleEndian.Uint32(b[4:]))
	if len(b) != 8+4*r*c {
		return nil, fmt.Errorf("bad cache file")
	}
	f := &Features{Layer: layer, Rows: r, Cols: c, Data: make([]float32, r*c)}
	for i := range f.Data {
		f.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return f, nil
}
