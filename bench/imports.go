package bench

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/imports"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

//go:embed peers/ort_run.js
var ortRunJS []byte

//go:embed peers/export_resnet18.py
var exportResNet18 []byte

//go:embed peers/torch_infer.py
var torchInferPy []byte

// ImportOptions control the imported-network benchmark (`ventral bench import`).
type ImportOptions struct {
	Threads []int         // thread counts, each for ours and the peer (default 1 and 2)
	Batch   int           // images per forward pass (default 16)
	MinTime time.Duration // measuring time per workload and thread count (default 8 s)
	// Rounds splits MinTime into rounds that alternate ours and onnxruntime (default 3): on a
	// shared machine whose speed drifts by a third between minutes, back-to-back figures
	// compare like with like, and the medians of the rounds are reported.
	Rounds int
	Only   string // a single workload name
	// ORT is onnxruntime-node's package folder (default $VENTRAL_ORT, else
	// <user cache>/ventral-peers/node_modules/onnxruntime-node, where scripts/test installs it).
	ORT    string
	Python string // exports ResNet-18 with torch (default /usr/bin/python3)
	NoPeer bool
}

// ImportWorkloads lists the imported-network inference workloads: the ONNX model zoo's int8
// MobileNetV2 (as imported: exact integer simulation) and torchvision's ResNet-18 exported to
// ONNX (float32), both at 224 px.
func ImportWorkloads() []string { return []string{"mobilenetv2-int8-onnx", "resnet18-onnx"} }

// Import runs the imported networks in ventral and in onnxruntime-node on the same ONNX files
// and the same batch, at each thread count. Result names end in "-tN" (N threads); the peer is
// onnxruntime (median of timed runs after one warm-up, intra-op threads N). A second row per
// workload, "-tN-vs-torch", puts the same figure of ours beside PyTorch running torchvision's
// float32 architecture at the same batch and threads.
func Import(o ImportOptions, progress func(string)) ([]Result, error) {
	if len(o.Threads) == 0 {
		o.Threads = []int{1, 2}
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.MinTime <= 0 {
		o.MinTime = 8 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if o.Only != "" && !contains(ImportWorkloads(), o.Only) {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", o.Only, strings.Join(ImportWorkloads(), ", "))
	}
	tmp, err := os.MkdirTemp("", "ventral-bench-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	prevProcs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prevProcs)
	prevThreads := tensor.Threads()
	defer tensor.SetThreads(prevThreads)

	var out []Result
	for _, name := range ImportWorkloads() {
		if o.Only != "" && name != o.Only {
			continue
		}
		if progress != nil {
			progress("importing " + name)
		}
		path, err := importFile(name, tmp, o)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		m, err := imports.Load(path, imports.Options{})
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		g := m.Graph
		rng := rand.New(rand.NewPCG(3, 4))
		x := tensor.New(append([]int{o.Batch}, g.InputShape...)...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		xPath := filepath.Join(tmp, name+".f32")
		if err := writeF32(xPath, x.Data); err != nil {
			return out, err
		}
		for _, th := range o.Threads {
			if progress != nil {
				progress(fmt.Sprintf("measuring %s at %d threads", name, th))
			}
			runtime.GOMAXPROCS(th)
			tensor.SetThreads(th)
			ctx := nn.NewCtx(false, 1)
			step := func() error {
				_, err := g.Forward(ctx, x)
				ctx.Reset()
				return err
			}
			// Rounds of ours then onnxruntime, each a share of MinTime; the medians of the
			// rounds' medians are reported, and their ranges in the note.
			var ours, peer []float64
			var peerErr error
			var ort *ortRunner
			if !o.NoPeer {
				if progress != nil {
					progress(fmt.Sprintf("starting onnxruntime for %s at %d threads", name, th))
				}
				ort, peerErr = newORTRunner(path, xPath, x.Shape, th, tmp, o)
			}
			for round := 0; round < o.Rounds; round++ {
				med, err := timeSteps(step, min(1, 1-round), o.MinTime/time.Duration(o.Rounds))
				if err != nil {
					return out, fmt.Errorf("%s: %w", name, err)
				}
				ours = append(ours, float64(o.Batch)/med.Seconds())
				if ort != nil && peerErr == nil {
					if progress != nil {
						progress(fmt.Sprintf("onnxruntime for %s at %d threads, round %d of %d", name, th, round+1, o.Rounds))
					}
					var ips float64
					if ips, peerErr = ort.run(o.MinTime / time.Duration(o.Rounds)); peerErr == nil {
						peer = append(peer, ips)
					}
				}
			}
			r := Result{Name: fmt.Sprintf("%s-t%d", name, th), ImagesPerS: median(ours),
				Note: fmt.Sprintf("batch=%d layers=%d rounds=%d ours=%s", o.Batch, len(g.Nodes), o.Rounds, spread(ours))}
			if !o.NoPeer {
				r.PeerErr = peerErr
				if peerErr == nil {
					r.PeerImagesPerS = median(peer)
					r.Note += " peer=" + spread(peer)
				}
			}
			out = append(out, r)
			if !o.NoPeer {
				// PyTorch runs the same architecture from torchvision in float32 (it has no
				// runtime for the int8 ONNX file, so MobileNetV2 is the float network there).
				if progress != nil {
					progress(fmt.Sprintf("running PyTorch for %s at %d threads", name, th))
				}
				t := Result{Name: fmt.Sprintf("%s-t%d-vs-torch", name, th), ImagesPerS: r.ImagesPerS, Note: "vs torchvision " + torchArch[name] + " float32"}
				t.PeerImagesPerS, t.PeerErr = torchPeer(torchArch[name], th, o.Batch, o.MinTime, tmp, o)
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// torchArch names each workload's torchvision architecture.
var torchArch = map[string]string{"mobilenetv2-int8-onnx": "mobilenet_v2", "resnet18-onnx": "resnet18"}

// torchPeer times torchvision's arch in PyTorch at the same batch and thread count.
func torchPeer(arch string, threads, batch int, minTime time.Duration, dir string, o ImportOptions) (float64, error) {
	script := filepath.Join(dir, "torch_infer.py")
	if err := os.WriteFile(script, torchInferPy, 0o644); err != nil {
		return 0, err
	}
	out, err := exec.Command(o.Python, script, arch, strconv.Itoa(threads), strconv.Itoa(batch), strconv.FormatFloat(minTime.Seconds(), 'f', 1, 64)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("PyTorch (%s with torch and torchvision): %v: %s", o.Python, err, lastLine(string(out)))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "PEER" {
			return strconv.ParseFloat(f[2], 64)
		}
	}
	return 0, fmt.Errorf("PyTorch printed no PEER line: %s", lastLine(string(out)))
}

// importFile returns the ONNX file of a workload (ResNet-18 is exported by torch into dir).
func importFile(name, dir string, o ImportOptions) (string, error) {
	switch name {
	case "mobilenetv2-int8-onnx":
		return datasets.Resolve("onnx-mobilenetv2-int8", "mobilenetv2-12-int8.onnx")
	case "resnet18-onnx":
		script := filepath.Join(dir, "export_resnet18.py")
		if err := os.WriteFile(script, exportResNet18, 0o644); err != nil {
			return "", err
		}
		path := filepath.Join(dir, "resnet18.onnx")
		if out, err := exec.Command(o.Python, script, path).CombinedOutput(); err != nil {
			return "", fmt.Errorf("exporting ResNet-18 with %s (needs torch and torchvision): %v: %s", o.Python, err, lastLine(string(out)))
		}
		return path, nil
	}
	return "", fmt.Errorf("unknown workload %q", name)
}

// ORTDir is onnxruntime-node's package folder: explicit, else $VENTRAL_ORT, else the cache
// folder scripts/test installs it into.
func ORTDir(explicit string) (string, error) {
	d := explicit
	if d == "" {
		d = os.Getenv("VENTRAL_ORT")
	}
	if d == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		d = filepath.Join(cache, "ventral-peers", "node_modules", "onnxruntime-node")
	}
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("onnxruntime-node not found (%v): set VENTRAL_ORT or run scripts/test, which installs it", err)
	}
	return d, nil
}

// ortRunner times onnxruntime-node on one model, input and thread count.
type ortRunner struct {
	args  []string
	batch int
	once  time.Duration // one untimed run, start-up included
}

// newORTRunner checks that onnxruntime runs the model (one untimed run, whose length sizes the
// timed ones).
func newORTRunner(model, xPath string, shape []int, threads int, dir string, o ImportOptions) (*ortRunner, error) {
	ort, err := ORTDir(o.ORT)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "ort_run.js")
	if err := os.WriteFile(script, ortRunJS, 0o644); err != nil {
		return nil, err
	}
	args := []string{script, ort, model, xPath}
	for _, d := range shape {
		args = append(args, strconv.Itoa(d))
	}
	args = append(args, filepath.Join(dir, "y.f32"), strconv.Itoa(threads))
	start := time.Now()
	if out, err := exec.Command("node", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("onnxruntime: %v: %s", err, lastLine(string(out)))
	}
	return &ortRunner{args: args, batch: shape[0], once: time.Since(start)}, nil
}

// run times about d of runs after a warm-up and returns images per second from the median run.
func (r *ortRunner) run(d time.Duration) (float64, error) {
	repeats := max(5, min(200, int(d/max(r.once, time.Millisecond))))
	out, err := exec.Command("node", append(r.args, strconv.Itoa(repeats))...).Output()
	if err != nil {
		return 0, fmt.Errorf("onnxruntime: %v", err)
	}
	var res struct{ Seconds []float64 }
	if err := json.Unmarshal([]byte(lastLine(string(out))), &res); err != nil || len(res.Seconds) == 0 {
		return 0, fmt.Errorf("onnxruntime: unexpected output %q", lastLine(string(out)))
	}
	sort.Float64s(res.Seconds)
	return float64(r.batch) / res.Seconds[len(res.Seconds)/2], nil
}

// median of v (not empty); v is sorted in place.
func median(v []float64) float64 {
	sort.Float64s(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// spread writes v's range ("12.3" for one value, else "12.3-14.0").
func spread(v []float64) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if len(v) == 1 || lo == hi {
		return fmt.Sprintf("%.1f", lo)
	}
	return fmt.Sprintf("%.1f-%.1f", lo, hi)
}

func writeF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}
