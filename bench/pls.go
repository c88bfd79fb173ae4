package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/metrics/regression"
)

// PLSResult is ours beside scikit-learn's on the neural-predictivity workload.
type PLSResult struct {
	Ours        regression.BenchResult
	PeerSeconds float64 // 0 when the peer could not run
	PeerMedianR float64
	PeerMaxRSS  float64 // MB
	PeerErr     error
}

// Speedup is the peer's time over ours.
func (r PLSResult) Speedup() float64 {
	if r.PeerSeconds == 0 || r.Ours.Seconds == 0 {
		return 0
	}
	return r.PeerSeconds / r.Ours.Seconds
}

// PLS runs PLS-25 with 10-fold cross-validation on stimuli x features x neuroids for us and
// for scikit-learn (shared/bench/sklearn_pls_peer.py), one after the other in this process's
// run, so both see the same machine.
func PLS(stimuli, features, neuroids int, o Options) (PLSResult, error) {
	var r PLSResult
	var err error
	if r.Ours, err = regression.BenchPLS(stimuli, features, neuroids, 1); err != nil {
		return r, err
	}
	if o.NoPeer {
		return r, nil
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	dir, err := PeerDir(o.PeerDir)
	if err != nil {
		r.PeerErr = err
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Python, filepath.Join(dir, "sklearn_pls_peer.py"),
		strconv.Itoa(stimuli), strconv.Itoa(features), strconv.Itoa(neuroids))
	out, err := cmd.Output()
	if err != nil {
		r.PeerErr = fmt.Errorf("sklearn peer: %v (is python3-sklearn installed?)", err)
		return r, nil
	}
	r.PeerSeconds, r.PeerMedianR, r.PeerMaxRSS, r.PeerErr = parsePLSPeer(string(out))
	return r, nil
}

// parsePLSPeer reads "PEER sklearn-pls25-10fold ... seconds=S median_r=R maxrss_MB=M".
func parsePLSPeer(out string) (secs, medianR, rss float64, err error) {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "PEER sklearn-pls25-10fold") {
			continue
		}
		found := 0
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			x, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				continue
			}
			switch k {
			case "seconds":
				secs = x
				found++
			case "median_r":
				medianR = x
			case "maxrss_MB":
				rss = x
			}
		}
		if found == 1 {
			return secs, medianR, rss, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("no PEER sklearn-pls25-10fold line with seconds= in the peer's output")
}
