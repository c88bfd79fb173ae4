package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// poisoned is the identity whose forward pass writes NaN (or +Inf) into its first output, while
// its backward pass returns the identity's finite gradient: the loss, hence every finite
// difference, is not finite.
type poisoned struct{ v float32 }

func (p *poisoned) Type() string                                  { return "poisoned" }
func (p *poisoned) Build(in [][]int, _ *rand.Rand) ([]int, error) { return in[0], nil }
func (p *poisoned) Params() []*nn.Param                           { return nil }
func (p *poisoned) Forward(_ *nn.Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	y := in[0].Clone()
	y.Data[0] = p.v
	return y, nil
}
func (p *poisoned) Backward(_ *nn.Ctx, _ any, _ []*tensor.Tensor, _, dout *tensor.Tensor, _ []bool) []*tensor.Tensor {
	return []*tensor.Tensor{dout.Clone()}
}

// recorder is a testing.TB that collects errors instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }

// A NaN or infinite numerical derivative is a failed check (it compared false with every
// tolerance and passed), also for ops allowed kinks.
func TestNonFiniteNumericalDerivativeFails(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		for _, kinky := range []bool{false, true} {
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() { defer close(done); CheckOp(r, &poisoned{v}, [][]int{{3, 4}}, Opts{Kinky: kinky}) }()
			<-done
			if len(r.errs) == 0 || !strings.Contains(strings.Join(r.errs, "\n"), "numeric") {
				t.Errorf("output %v, kinky %v: the check passed: %v", v, kinky, r.errs)
			}
		}
	}
}

// wrongAt is y = 2x whose backward pass is right except at one kernel level, where it returns
// the identity's gradient; it records the levels its backward pass ran at.
type wrongAt struct {
	bad  tensor.KernelLevel
	seen map[tensor.KernelLevel]int
}

func (w *wrongAt) Type() string                                  { return "wrong_at" }
func (w *wrongAt) Build(in [][]int, _ *rand.Rand) ([]int, error) { return in[0], nil }
func (w *wrongAt) Params() []*nn.Param                           { return nil }
func (w *wrongAt) Forward(_ *nn.Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	y := in[0].Clone()
	tensor.Scale(2, y.Data)
	return y, nil
}
func (w *wrongAt) Backward(_ *nn.Ctx, _ any, _ []*tensor.Tensor, _, dout *tensor.Tensor, _ []bool) []*tensor.Tensor {
	l := tensor.CurrentKernelLevel()
	w.seen[l]++
	d := dout.Clone()
	if l != w.bad {
		tensor.Scale(2, d.Data)
	}
	return []*tensor.Tensor{d}
}

// CheckOp runs at every kernel level, restores the level, and a gradient wrong at one level
// only fails the check with that level named.
func TestCheckOpRunsEveryKernelLevel(t *testing.T) {
	start := tensor.CurrentKernelLevel()
	for _, bad := range tensor.AvailableKernelLevels() {
		w := &wrongAt{bad: bad, seen: map[tensor.KernelLevel]int{}}
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() { defer close(done); CheckOp(r, w, [][]int{{5}}, Opts{}) }()
		<-done
		msg := strings.Join(r.errs, "\n")
		if len(r.errs) != 1 || !strings.Contains(msg, "[kernels="+bad.String()+"]") {
			t.Errorf("gradient wrong at %s: errors %q", bad, r.errs)
		}
		for _, l := range tensor.AvailableKernelLevels() {
			if w.seen[l] != 1 {
				t.Errorf("backward ran %d times at %s", w.seen[l], l)
			}
		}
		if tensor.CurrentKernelLevel() != start {
			t.Errorf("level left at %s, was %s", tensor.CurrentKernelLevel(), start)
		}
	}
}
