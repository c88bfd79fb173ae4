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
