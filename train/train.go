// Package train is ventral's training loop: shuffled, optionally augmented batches of a
// labelled image set, softmax cross-entropy, backward pass and an optim update per step; after
// each epoch an evaluation on the test set, a row of metrics.csv, a PNG of the learning curves
// and a checkpoint (model.safetensors with weights, buffers, optimizer state and the spec in its
// metadata, plus model.yaml), all written atomically. A run resumed from its checkpoint gives
// bit-identical weights to an uninterrupted one: batch order, augmentation and dropout depend
// only on (seed, epoch, step).
package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// Config describes a training run.
type Config struct {
	Model     *nn.Graph // built; trained in place
	Train     *datasets.Dataset
	Test      *datasets.Dataset // may be nil: test metrics are then NaN
	DataName  string            // recorded in the checkpoint, e.g. "mnist"
	Epochs    int
	Batch     int
	EvalBatch int // default 256
	Optim     optim.Config
	Schedule  optim.Schedule
	Seed      uint64
	Threads   int    // > 0 sets tensor.SetThreads
	Out       string // output folder (created); "" writes nothing
	Augment   Augment
	Log       io.Writer // progress and per-epoch lines; nil is silent
	// StopAfter > 0 stops after that many epochs of this call, as if interrupted (the schedule
	// still spans Epochs); Resume continues.
	StopAfter int
	// Overwrite allows Run to replace an existing checkpoint in Out.
	Overwrite bool
	// Pretrain, when set, changes the model's weights before the first epoch of a new run
	// (never on Resume), with Out locked: unsupervised pretraining (package pretrain). It gets
	// the training set, the per-channel normalisation the loop applies (nil: none) and Out.
	Pretrain func(g *nn.Graph, data *datasets.Dataset, mean, std []float32, dir string, log io.Writer) error
	// Rule is the learning rule (package rules: bp, fa, dfa, sign; "" is bp). Its fixed
	// feedback matrices are drawn from Seed and saved with the checkpoints.
	Rule string
}

// Result is what a run produced.
type Result struct {
	Rows  []Row // one per completed epoch, including those before a resume
	Graph *nn.Graph
	Dir   string
}

// saved is the part of Config stored in checkpoints so Resume can continue identically.
type saved struct {
	Epochs   int            `json:"epochs"`
	Batch    int            `json:"batch"`
	Optim    optim.Config   `json:"optim"`
	Schedule optim.Schedule `json:"schedule"`
	Seed     uint64         `json:"seed"`
	Augment  Augment        `json:"augment"`
	Data     string         `json:"data"`
	Train    int            `json:"train_samples"`
	Rule     string         `json:"rule,omitempty"`
}

// Run trains cfg.Model from its current weights.
func Run(cfg Config) (*Result, error) {
	if cfg.Model == nil || !cfg.Model.Built() {
		return nil, errors.New("train: the model must be built")
	}
	if cfg.Out != "" {
		unlock, err := lockRun(cfg.Out, cfg.Log)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if cfg.Out != "" && !cfg.Overwrite {
		if _, err := os.Stat(filepath.Join(cfg.Out, CheckpointFile)); err == nil {
			return nil, fmt.Errorf("train: %s already holds a checkpoint (resume it, or allow overwriting)", cfg.Out)
		}
	}
	opt, err := optim.New(cfg.Optim)
	if err != nil {
		return nil, err
	}
	cfg.Optim = opt.Config()
	if err := startRule(cfg); err != nil {
		return nil, err
	}
	return loop(cfg, opt, 0, 0, nil, nil)
}

// Resume continues the run whose checkpoint is in dir. The model, seed, batch size, optimizer,
// schedule and augmentation come from the checkpoint (cfg's are ignored); cfg supplies the data
// sets, Log, Threads and optionally a new Epochs target (0 keeps the saved one). Metrics rows
// after the checkpoint's epoch are dropped.
func Resume(dir string, cfg Config) (*Result, error) {
	if _, err := os.Stat(checkpointPath(dir)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no checkpoint (%s) to resume: start the run without --resume", dir, CheckpointFile)
	}
	unlock, err := lockRun(dir, cfg.Log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal([]byte(ck.Meta["train"]), &s); err != nil {
		return nil, fmt.Errorf("%s: no training state in the metadata: %v", ck.Path, err)
	}
	cfg.Model, cfg.Out, cfg.Pretrain = ck.Graph, dir, nil
	cfg.Batch, cfg.Optim, cfg.Schedule, cfg.Seed, cfg.Augment, cfg.Rule = s.Batch, s.Optim, s.Schedule, s.Seed, s.Augment, s.Rule
	if cfg.Epochs == 0 {
		cfg.Epochs = s.Epochs
	}
	if cfg.Epochs < ck.Epoch {
		return nil, fmt.Errorf("%s: the run has done %d epochs; a total of %d would undo them (give an epoch total above %d, or start a new run)",
			ck.Path, ck.Epoch, cfg.Epochs, ck.Epoch)
	}
	if cfg.Epochs == ck.Epoch && cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "train: %s has already completed its %d epochs; nothing to do (give a larger epoch total to continue)\n", dir, ck.Epoch)
	}
	if cfg.DataName == "" {
		cfg.DataName = s.Data
	} else if s.Data != "" && cfg.DataName != s.Data {
		return nil, fmt.Errorf("%s: the run trains on %s, not %s (a resumed run keeps its data set)", ck.Path, s.Data, cfg.DataName)
	}
	if cfg.Train != nil && cfg.Train.Len() != s.Train {
		return nil, fmt.Errorf("%s: the run trained on %d samples, this training set has %d", ck.Path, s.Train, cfg.Train.Len())
	}
	opt, err := optim.New(s.Optim)
	if err != nil {
		return nil, err
	}
	params, err := trainable(ck.Graph)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ck.Path, err)
	}
	if err := opt.LoadState(ck.Optim, params); err != nil {
		return nil, fmt.Errorf("%s: %w", ck.Path, err)
	}
	var rows []Row
	if all, err := ReadMetrics(filepath.Join(dir, MetricsFile)); err == nil {
		for _, r := range all {
			if r.Epoch <= ck.Epoch {
				rows = append(rows, r)
			}
		}
	}
	return loop(cfg, opt, ck.Epoch, ck.Step, rows, ck)
}

// loop trains from startEpoch; ck is the checkpoint a resumed run continues (nil for a new one).
func loop(cfg Config, opt *optim.Optimizer, startEpoch, step int, rows []Row, ck *Checkpoint) (*Result, error) {
	g := cfg.Model
	if err := checkData(g, cfg.Train, "training"); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if cfg.Test != nil {
		if err := checkData(g, cfg.Test, "test"); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	mean, std, err := normalization(g, cfg.Train)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if cfg.Epochs <= 0 || cfg.Batch <= 0 {
		return nil, fmt.Errorf("train: epochs (%d) and batch (%d) must be positive", cfg.Epochs, cfg.Batch)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, err
		}
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	ld, err := datasets.NewLoader(cfg.Train, datasets.LoaderConfig{Batch: cfg.Batch, Seed: cfg.Seed, Shuffle: true,
		CropPad: cfg.Augment.Crop, Flip: cfg.Augment.Flip, Mean: mean, Std: std})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	spe := ld.NumBatches()
	total := cfg.Epochs * spe
	// A warm-up as long as the run never reaches the base rate, and under a cosine schedule it
	// leaves the rate at the floor throughout: the run would silently not train.
	if cfg.Schedule.WarmupSteps >= total {
		return nil, fmt.Errorf("train: a warm-up of %d steps is not shorter than the run's %d steps (%d epochs x %d batches); shorten it",
			cfg.Schedule.WarmupSteps, total, cfg.Epochs, spe)
	}
	if step != startEpoch*spe {
		return nil, fmt.Errorf("train: checkpoint at epoch %d has %d steps, expected %d (batch size or data set changed?)", startEpoch, step, startEpoch*spe)
	}
	if cfg.Pretrain != nil && step == 0 {
		if err := cfg.Pretrain(g, cfg.Train, mean, std, cfg.Out, cfg.Log); err != nil {
			return nil, err
		}
	}
	rule, err := newRule(cfg, ck)
	if err != nil {
		return nil, err
	}
	sv := saved{Epochs: cfg.Epochs, Batch: cfg.Batch, Optim: opt.Config(), Schedule: cfg.Schedule, Seed: cfg.Seed, Augment: cfg.Augment, Data: cfg.DataName, Train: cfg.Train.Len(), Rule: cfg.Rule}
	svJSON, _ := json.Marshal(sv)
	optJSON, _ := json.Marshal(opt.Config())
	ctx := nn.NewCtx(true, cfg.Seed)
	params, err := trainable(g)
	if err != nil {
		return nil, err
	}
	base := opt.Config().LR
	end := cfg.Epochs
	if cfg.StopAfter > 0 {
		end = min(end, startEpoch+cfg.StopAfter)
	}
	for epoch := startEpoch; epoch < end; epoch++ {
		bar := newBar(log, spe, fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Epochs))
		t0 := time.Now()
		var lossSum float64
		var correct, seen int
		var lr float64
		for b := range ld.Epoch(epoch) {
			s := b.Index
			x, y := tensor.FromData(b.X, b.N, b.C, b.H, b.W), b.Y
			lr = cfg.Schedule.LR(base, step, spe, total)
			ctx.Rng = rand.New(rand.NewPCG(mix(cfg.Seed, epoch, s), 0xda3e39cb94b95bdb))
			g.ZeroGrad()
			tr, err := g.Forward(ctx, x)
			if err != nil {
				return nil, err
			}
			out := tr.Output()
			logits := out.Reshape(out.Shape[0], out.Len()/out.Shape[0])
			loss, dl, c, err := nn.SoftmaxCrossEntropy(logits, y)
			if err == nil && (math.IsNaN(loss) || math.IsInf(loss, 0)) {
				err = fmt.Errorf("loss is %v", loss)
			}
			if err != nil {
				return nil, fmt.Errorf("train: epoch %d, step %d (global step %d): %w", epoch+1, s+1, step+1, err)
			}
			if err := rule.Backward(tr, dl.Reshape(out.Shape...)); err != nil {
				return nil, err
			}
			if _, err := opt.Step(params, lr); err != nil {
				return nil, err
			}
			ctx.Reset()
			step++
			lossSum += loss * float64(len(y))
			correct += c
			seen += len(y)
			if bar != nil {
				el := time.Since(t0).Seconds()
				bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f acc %.4f %.0f img/s", epoch+1, cfg.Epochs, lossSum/float64(seen), float64(correct)/float64(seen), float64(seen)/el))
				bar.Add(1)
			}
		}
		secs := time.Since(t0).Seconds()
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(log)
		}
		row := Row{Epoch: epoch + 1, Step: step, LR: lr, TrainLoss: lossSum / float64(seen), TrainAcc: float64(correct) / float64(seen),
			TestLoss: math.NaN(), TestAcc: math.NaN(), Seconds: secs, ImagesPerS: float64(seen) / secs}
		if cfg.Test != nil && cfg.Test.Len() > 0 {
			acc, loss, err := Evaluate(g, cfg.Test, cfg.EvalBatch)
			if err != nil {
				return nil, fmt.Errorf("train: evaluating after epoch %d: %w", epoch+1, err)
			}
			row.TestAcc, row.TestLoss = acc, loss
		}
		row.PeakRSSMB = peakRSSMB()
		rows = append(rows, row)
		fmt.Fprintf(log, "epoch %d/%d step %d lr %.4g train_loss %.4f train_acc %.4f test_loss %.4f test_acc %.4f %.1fs %.0f img/s rss %.0f MB\n",
			row.Epoch, cfg.Epochs, row.Step, row.LR, row.TrainLoss, row.TrainAcc, row.TestLoss, row.TestAcc, row.Seconds, row.ImagesPerS, row.PeakRSSMB)
		if cfg.Out != "" {
			meta := map[string]string{
				"seed":      strconv.FormatUint(cfg.Seed, 10),
				"epoch":     strconv.Itoa(epoch + 1),
				"step":      strconv.Itoa(step),
				"dataset":   cfg.DataName,
				"optimizer": string(optJSON),
				"schedule":  cfg.Schedule.String(),
				"train":     string(svJSON),
			}
			// Metrics first: a crash before the checkpoint leaves a row that Resume drops and
			// recomputes; the other order would lose the row for good.
			if err := writeMetrics(filepath.Join(cfg.Out, MetricsFile), rows); err != nil {
				return nil, err
			}
			if betweenWrites != nil {
				if err := betweenWrites(epoch + 1); err != nil {
					return nil, err
				}
			}
			if err := saveCheckpoint(cfg.Out, g, opt, meta, rule.State()); err != nil {
				return nil, err
			}
			if err := PlotCurves(filepath.Join(cfg.Out, CurvesFile), rows, g.Name); err != nil {
				return nil, fmt.Errorf("train: plotting curves: %w", err)
			}
		}
	}
	return &Result{Rows: rows, Graph: g, Dir: cfg.Out}, nil
}

// newBar returns a progress bar when w is a terminal, else nil (a line per epoch is printed
// instead).
func newBar(w io.Writer, steps int, desc string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(25),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
	)
}

// Evaluate runs g in inference mode over ds in batches (default 256), normalising the images
// as the model's preprocessing metadata declares, and returns the top-1 accuracy and the mean
// softmax cross-entropy.
func Evaluate(g *nn.Graph, ds *datasets.Dataset, batch int) (acc, loss float64, err error) {
	if batch <= 0 {
		batch = 256
	}
	if err := checkData(g, ds, "evaluation"); err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	mean, std, err := normalization(g, ds)
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	ctx := nn.NewCtx(false, 0)
	n, per := ds.N, ds.ImageSize()
	buf := make([]float32, batch*per)
	var correct int
	for lo := 0; lo < n; lo += batch {
		m := min(batch, n-lo)
		copy(buf, ds.X[lo*per:(lo+m)*per])
		if mean != nil {
			for i := 0; i < m; i++ {
				datasets.Normalize(buf[i*per:(i+1)*per], ds.C, mean, std)
			}
		}
		x := tensor.FromData(buf[:m*per], m, ds.C, ds.H, ds.W)
		tr, err := g.Forward(ctx, x)
		if err != nil {
			return 0, 0, err
		}
		out := tr.Output()
		l, _, c, err := nn.SoftmaxCrossEntropy(out.Reshape(m, out.Len()/m), ds.Labels[lo:lo+m])
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate: images %d..%d: %w", lo, lo+m-1, err)
		}
		loss += l * float64(m)
		correct += c
		ctx.Reset()
	}
	return float64(correct) / float64(n), loss / float64(n), nil
}

// mix derives a stream seed from a seed and two counters (splitmix64 finaliser); the dropout
// stream of each training step is PCG(mix(seed, epoch, step), const).
func mix(seed uint64, a, b int) uint64 {
	z := seed ^ uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xbf58476d1ce4e5b9
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// betweenWrites, when set (by tests), runs between the end-of-epoch writes; an error stops the
// run there, as a crash would.
var betweenWrites func(epoch int) error
