// Package bench measures ventral's engine on the workloads of the PyTorch peer scripts
// (shared/bench/torch_peers.py and torch_lenet_mnist.py) and runs those scripts in the same
// invocation, so every figure is printed beside the peer's as a ratio measured on the same
// machine at the same thread count.
//
// Timings are medians of per-step wall times after warm-up steps, as the peer scripts do.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/sysinfo"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// Result is one workload's measurement.
type Result struct {
	Name           string
	ImagesPerS     float64
	PeerImagesPerS float64 // 0 when the peer could not run
	PeerErr        error
	PeakRSSMB      float64
	Note           string
	// FLOPsPerImage counts the conv and dense layers' GEMM work per image (ForwardFLOPs, three
	// times that for a training step); 0 where unknown.
	FLOPsPerImage float64
	// PeakGFLOPS is the machine's FMA peak at the run's thread count (0 where not measured).
	PeakGFLOPS float64
}

// GFLOPS is the GEMM work done per second (0 without FLOPsPerImage).
func (r Result) GFLOPS() float64 { return r.ImagesPerS * r.FLOPsPerImage / 1e9 }

// Ratio is ours over the peer's (0 without a peer figure).
func (r Result) Ratio() float64 {
	if r.PeerImagesPerS == 0 {
		return 0
	}
	return r.ImagesPerS / r.PeerImagesPerS
}

// String is the line `ventral bench engine` prints.
func (r Result) String() string {
	s := fmt.Sprintf("BENCH %s %.1f", r.Name, r.ImagesPerS)
	if r.PeerImagesPerS > 0 {
		s += fmt.Sprintf(" peer=%.1f ratio=%.2f", r.PeerImagesPerS, r.Ratio())
	} else if r.PeerErr != nil {
		s += fmt.Sprintf(" peer=unavailable (%v)", r.PeerErr)
	}
	if g := r.GFLOPS(); g > 0 {
		s += fmt.Sprintf(" gflops=%.1f", g)
		if r.PeakGFLOPS > 0 {
			s += fmt.Sprintf(" of_peak=%.2f", g/r.PeakGFLOPS)
			if r.PeerImagesPerS > 0 {
				s += fmt.Sprintf(" peer_of_peak=%.2f", r.PeerImagesPerS*r.FLOPsPerImage/1e9/r.PeakGFLOPS)
			}
		}
	}
	if r.Note != "" {
		s += " " + r.Note
	}
	return s
}

// Options control an engine benchmark run.
type Options struct {
	Threads int           // threads for ours and the peer (default 1)
	Only    string        // a single workload name
	MinTime time.Duration // measuring time per workload (default 8 s, as the peer)
	PeerDir string        // folder of the peer scripts (default: ../shared/bench if present)
	NoPeer  bool
	Python  string // interpreter (default /usr/bin/python3)
}

// Workloads lists the engine workloads in the order they run.
func Workloads() []string {
	return []string{"lenet5-mnist-train", "cifar-cnn-train", "alexnet-infer", "cornetz-infer"}
}

// Engine runs the engine workloads and their peers.
func Engine(o Options, progress func(string)) ([]Result, error) {
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.MinTime <= 0 {
		o.MinTime = 8 * time.Second
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if o.Only != "" && !contains(Workloads(), o.Only) {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", o.Only, strings.Join(Workloads(), ", "))
	}
	prevProcs := runtime.GOMAXPROCS(o.Threads)
	defer runtime.GOMAXPROCS(prevProcs)
	prevThreads := tensor.Threads()
	tensor.SetThreads(o.Threads)
	defer tensor.SetThreads(prevThreads)

	// The machine's FMA peak at this thread count, measured in the same run: each workload's
	// GEMM work per second is also printed as a fraction of it.
	var peakGFLOPS float64
	if p, err := tensor.FMAPeak(o.Threads, time.Second); err == nil {
		peakGFLOPS = p.GFLOPS
		if progress != nil {
			progress(fmt.Sprintf("FMA peak at %d threads: %.1f GFLOP/s", o.Threads, p.GFLOPS))
		}
	} else if progress != nil {
		progress(err.Error())
	}
	var out []Result
	for _, name := range Workloads() {
		if o.Only != "" && name != o.Only {
			continue
		}
		if progress != nil {
			progress("measuring " + name)
		}
		var r Result
		var err error
		switch name {
		case "lenet5-mnist-train":
			r, err = lenetTrain(o)
		case "cifar-cnn-train":
			r, err = synthTrain("cifar-cnn", 128, o)
		case "alexnet-infer":
			r, err = infer("alexnet-torchvision", 16, o)
		case "cornetz-infer":
			r, err = infer("cornet-z", 16, o)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		r.Name = name
		r.PeakRSSMB = sysinfo.PeakRSSMB()
		r.PeakGFLOPS = peakGFLOPS
		if !o.NoPeer {
			if progress != nil {
				progress("running the PyTorch peer for " + name)
			}
			r.PeerImagesPerS, r.PeerErr = peer(name, o)
		}
		out = append(out, r)
	}
	return out, nil
}

// timeSteps runs step until minTime has passed (and at least 5 timed steps), after warm-up,
// returning the median step time.
func timeSteps(step func() error, warm int, minTime time.Duration) (time.Duration, error) {
	for i := 0; i < warm; i++ {
		if err := step(); err != nil {
			return 0, err
		}
	}
	var times []time.Duration
	start := time.Now()
	for time.Since(start) < minTime || len(times) < 5 {
		t := time.Now()
		if err := step(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(t))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}

func trainStep(g *nn.Graph, opt *optim.Optimizer, ctx *nn.Ctx, x *tensor.Tensor, y []int, lr float64) error {
	g.ZeroGrad()
	tr, err := g.Forward(ctx, x)
	if err != nil {
		return err
	}
	_, d, _, err := nn.SoftmaxCrossEntropy(tr.Output(), y)
	if err != nil {
		return err
	}
	if err := tr.Backward(d); err != nil {
		return err
	}
	_, err = opt.Step(g.Params(), lr)
	ctx.Reset()
	return err
}

// lenetTrain trains LeNet-5 on real MNIST batches (batch 64, Adam 1e-3), as torch_lenet_mnist.py.
func lenetTrain(o Options) (Result, error) {
	ds, err := datasets.Load("mnist", "train")
	if err != nil {
		return Result{}, err
	}
	g, err := models.Get("lenet5")
	if err != nil {
		return Result{}, err
	}
	if err := g.Build(1); err != nil {
		return Result{}, err
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 1e-3})
	if err != nil {
		return Result{}, err
	}
	const bs = 64
	ctx := nn.NewCtx(true, 1)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(ds.Len())
	per := ds.ImageSize()
	x := tensor.New(bs, ds.C, ds.H, ds.W)
	y := make([]int, bs)
	b := 0
	step := func() error {
		for i := 0; i < bs; i++ {
			j := perm[(b*bs+i)%len(perm)]
			copy(x.Data[i*per:(i+1)*per], ds.Image(j))
			y[i] = ds.Labels[j]
		}
		b++
		return trainStep(g, opt, ctx, x, y, 1e-3)
	}
	med, err := timeSteps(step, 3, o.MinTime)
	if err != nil {
		return Result{}, err
	}
	return Result{ImagesPerS: bs / med.Seconds(), FLOPsPerImage: 3 * ForwardFLOPs(g)}, nil
}

// synthTrain trains on synthetic inputs with SGD (lr 0.01, momentum 0.9, weight decay 5e-4).
func synthTrain(model string, bs int, o Options) (Result, error) {
	g, err := models.Get(model)
	if err != nil {
		return Result{}, err
	}
	if err := g.Build(1); err != nil {
		return Result{}, err
	}
	opt, err := optim.New(optim.Config{Name: "sgd", LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4})
	if err != nil {
		return Result{}, err
	}
	x, y := synth(g, bs)
	ctx := nn.NewCtx(true, 1)
	med, err := timeSteps(func() error { return trainStep(g, opt, ctx, x, y, 0.01) }, 3, o.MinTime)
	if err != nil {
		return Result{}, err
	}
	return Result{ImagesPerS: float64(bs) / med.Seconds(), FLOPsPerImage: 3 * ForwardFLOPs(g)}, nil
}

func infer(model string, bs int, o Options) (Result, error) {
	g, err := models.Get(model)
	if err != nil {
		return Result{}, err
	}
	if err := g.Build(1); err != nil {
		return Result{}, err
	}
	x, _ := synth(g, bs)
	ctx := nn.NewCtx(false, 1)
	med, err := timeSteps(func() error {
		_, err := g.Forward(ctx, x)
		ctx.Reset()
		return err
	}, 2, o.MinTime)
	if err != nil {
		return Result{}, err
	}
	return Result{ImagesPerS: float64(bs) / med.Seconds(), FLOPsPerImage: ForwardFLOPs(g)}, nil
}

func synth(g *nn.Graph, bs int) (*tensor.Tensor, []int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := tensor.New(append([]int{bs}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	classes := g.Node(g.OutputName()).Shape[0]
	y := make([]int, bs)
	for i := range y {
		y[i] = rng.IntN(classes)
	}
	return x, y
}

// PeerDir finds the peer scripts: an explicit folder, $VENTRAL_PEERS, or shared/bench beside a
// parent of the working directory.
func PeerDir(explicit string) (string, error) {
	cands := []string{explicit, os.Getenv("VENTRAL_PEERS")}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			cands = append(cands, filepath.Join(dir, "shared", "bench"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "torch_peers.py")); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("peer scripts (torch_peers.py) not found; pass --peers DIR or set VENTRAL_PEERS")
}

func peer(name string, o Options) (float64, error) {
	dir, err := PeerDir(o.PeerDir)
	if err != nil {
		return 0, err
	}
	if err := exec.Command(o.Python, "-c", "import torch, numpy").Run(); err != nil {
		return 0, fmt.Errorf("%s cannot import torch and numpy (apt-get install python3-torch python3-numpy)", o.Python)
	}
	secs := strconv.FormatFloat(o.MinTime.Seconds(), 'f', 1, 64)
	threads := strconv.Itoa(o.Threads)
	var args []string
	var pattern string
	if name == "lenet5-mnist-train" {
		img, err := datasets.Resolve("mnist", "train-images-idx3-ubyte.gz")
		if err != nil {
			return 0, err
		}
		lab, err := datasets.Resolve("mnist", "t10k-labels-idx1-ubyte.gz")
		if err != nil {
			return 0, err
		}
		if filepath.Dir(img) != filepath.Dir(lab) {
			return 0, fmt.Errorf("the MNIST files are in different folders (%s, %s); the peer needs one", filepath.Dir(img), filepath.Dir(lab))
		}
		args = []string{filepath.Join(dir, "torch_lenet_mnist.py"), "--data", filepath.Dir(img), "--threads", threads, "--infreps", "1"}
		pattern = "TRAIN:"
	} else {
		args = []string{filepath.Join(dir, "torch_peers.py"), "--threads", threads, "--only", name, "--seconds", secs}
		pattern = "PEER " + name + " "
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("peer %s: %v: %s", name, err, lastLine(stderr.String()))
	}
	return parsePeer(string(outb), pattern)
}

// parsePeer reads the peer's figure: "PEER name X" lines, or the median-step img/s of
// torch_lenet_mnist.py's TRAIN line ("median step M ms => X img/s").
func parsePeer(out, pattern string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, pattern) {
			continue
		}
		if strings.HasPrefix(pattern, "PEER ") {
			f := strings.Fields(line)
			if len(f) >= 3 {
				return strconv.ParseFloat(f[2], 64)
			}
		}
		if i := strings.Index(line, "median step"); i >= 0 {
			f := strings.Fields(line[i:])
			// median step M ms => X img/s
			if len(f) >= 6 {
				return strconv.ParseFloat(f[5], 64)
			}
		}
	}
	return 0, fmt.Errorf("no %q line in the peer's output", pattern)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
