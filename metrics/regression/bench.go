package regression

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"
)

// BenchResult is the outcome of BenchPLS.
type BenchResult struct {
	Seconds  float64 // wall time of the 10-fold cross-validation (data generation excluded)
	PeakMB   float64 // peak Go heap in use during it, sampled every 20 ms
	MedianR  float64 // mean over folds of the median r over neuroids
	Workload string
}

// BenchPLS runs the workload of the peer script shared/bench/sklearn_pls_peer.py: X ~ N(0,1)
// (stimuli x features), W ~ N(0,1)/sqrt(features), Y = X W + N(0,1) noise; PLS with 25 components
// and scale=false (the peer's setting), 10-fold shuffled cross-validation, Pearson r per neuroid on
// the held-out stimuli, median over neuroids. The data come from our own seeded generator (not
// numpy's), in float64.
func BenchPLS(stimuli, features, neuroids int, seed uint64) (BenchResult, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	X := mat.NewDense(stimuli, features, nil)
	for i := 0; i < stimuli; i++ {
		row := X.RawRowView(i)
		for j := range row {
			row[j] = rng.NormFloat64()
		}
	}
	W := mat.NewDense(features, neuroids, nil)
	s := 1 / math.Sqrt(float64(features))
	for i := 0; i < features; i++ {
		row := W.RawRowView(i)
		for j := range row {
			row[j] = rng.NormFloat64() * s
		}
	}
	Y := mat.NewDense(stimuli, neuroids, nil)
	Y.Mul(X, W)
	for i := 0; i < stimuli; i++ {
		row := Y.RawRowView(i)
		for j := range row {
			row[j] += rng.NormFloat64()
		}
	}
	var peak uint64
	var ms runtime.MemStats
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	start := time.Now()
	res, err := CrossValidate(X, Y, PLSRegressor{Components: 25, Scale: false}, CVOptions{Folds: 10, Seed: seed})
	el := time.Since(start).Seconds()
	close(done)
	wg.Wait()
	if err != nil {
		return BenchResult{}, err
	}
	return BenchResult{Seconds: el, PeakMB: float64(peak) / (1 << 20), MedianR: res.Mean,
		Workload: "pls25(scale=false) 10-fold"}, nil
}
