package hierarchy

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/train"
)

// CIFARTestImages is the default number of CIFAR-10 test images (train.Subset's fixed
// sample) that measure each candidate CIFAR run; every candidate sees the same images, so
// their accuracies compare.
const CIFARTestImages = 2000

// CIFARRun is one candidate CIFAR-trained run folder and its measured accuracy.
type CIFARRun struct {
	Dir      string
	Accuracy float64 // CIFAR-10 test accuracy on Config.CIFARImages test images
	Err      error   // why it was not measured (then it cannot be picked)
}

// cifarSource states where the CIFAR network's task performance comes from: a different
// task from the ImageNet networks', so it never enters their rank correlation.
func cifarSource(n int) string {
	return fmt.Sprintf("measured CIFAR-10 test accuracy (%d test images; CIFAR-10, not ImageNet)", n)
}

// CIFARCandidates lists the run folders a --cifar value names: comma-separated run folders
// (each holding train.CheckpointFile), or parent folders whose immediate subfolders are run
// folders (sorted by name).
func CIFARCandidates(spec string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--cifar %s: %w", p, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--cifar %s: not a folder (want a training run folder or a folder of them)", p)
		}
		if isRun(p) {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("--cifar %s: %w", p, err)
		}
		var sub []string
		for _, e := range ents {
			if d := filepath.Join(p, e.Name()); e.IsDir() && isRun(d) {
				sub = append(sub, d)
			}
		}
		if len(sub) == 0 {
			return nil, fmt.Errorf("--cifar %s: neither a training run folder (no %s) nor a folder of them", p, train.CheckpointFile)
		}
		sort.Strings(sub)
		out = append(out, sub...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--cifar %q names no run folder", spec)
	}
	return out, nil
}

func isRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, train.CheckpointFile))
	return err == nil
}

// PickCIFAR measures every candidate with measure and returns the index of the most accurate
// (the first on ties; -1 when none could be measured) beside every candidate's result.
func PickCIFAR(dirs []string, measure func(dir string) (float64, error)) (int, []CIFARRun) {
	best := -1
	runs := make([]CIFARRun, len(dirs))
	for i, d := range dirs {
		acc, err := measure(d)
		runs[i] = CIFARRun{Dir: d, Accuracy: acc, Err: err}
		if err == nil && (best < 0 || acc > runs[best].Accuracy) {
			best = i
		}
	}
	return best, runs
}

// CIFARAccuracy measures a run folder's CIFAR-10 test accuracy on n test images; a network
// whose classes are not CIFAR-10's is an error.
func CIFARAccuracy(test *datasets.Dataset, n int) func(dir string) (float64, error) {
	return func(dir string) (float64, error) {
		g, err := train.LoadModel(dir)
		if err != nil {
			return 0, err
		}
		if !isCIFARClassifier(g) {
			return 0, fmt.Errorf("%s: not a CIFAR-10 classifier (classes %q)", dir, g.Meta["classes"])
		}
		acc, _, err := train.Evaluate(g, train.Subset(test, n), 0)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", dir, err)
		}
		return acc, nil
	}
}

// isCIFARClassifier reports whether g answers in the ten CIFAR-10 classes.
func isCIFARClassifier(g *nn.Graph) bool {
	cl := models.Classes(g)
	if len(cl) != len(datasets.CIFAR10Classes) {
		return false
	}
	for i, c := range datasets.CIFAR10Classes {
		if cl[i] != c {
			return false
		}
	}
	return true
}

// pickCIFAR resolves cfg.CIFAR (several runs) to the most accurate run, logging each
// candidate's accuracy.
func pickCIFAR(cfg Config) (string, *Performance, []CIFARRun, error) {
	dirs, err := CIFARCandidates(cfg.CIFAR)
	if err != nil {
		return "", nil, nil, fmt.Errorf("hierarchy: %w", err)
	}
	test, err := datasets.Load("cifar10", "test")
	if err != nil {
		return "", nil, nil, fmt.Errorf("hierarchy: --cifar: CIFAR-10 test set (to pick the best run): %w", err)
	}
	n := cfg.CIFARImages
	if n <= 0 {
		n = CIFARTestImages
	}
	best, runs := PickCIFAR(dirs, CIFARAccuracy(test, n))
	for _, r := range runs {
		if r.Err != nil {
			cfg.logf("CIFAR run %s: not measured: %v\n", r.Dir, r.Err)
		} else {
			cfg.logf("CIFAR run %s: CIFAR-10 test accuracy %.3f (%d test images)\n", r.Dir, r.Accuracy, n)
		}
	}
	if best < 0 {
		return "", nil, runs, fmt.Errorf("hierarchy: --cifar %s: no run could be measured (%v)", cfg.CIFAR, runs[0].Err)
	}
	cfg.logf("CIFAR-trained network: %s, the best of %d run(s), CIFAR-10 test accuracy %.3f\n", runs[best].Dir, len(runs), runs[best].Accuracy)
	return runs[best].Dir, &Performance{runs[best].Accuracy, cifarSource(n), "cifar10"}, runs, nil
}
