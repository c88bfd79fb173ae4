// Package datasets finds, verifies, decodes and batches the datasets of ventral.
//
// # Files
//
// Every known file is listed in a registry (see Files) with its upstream URL and sha256.
// Resolve looks for a file in the cache (Home(), $VENTRAL_HOME or ~/.cache/ventral, laid out
// as <home>/<dataset>/<file>), then in each folder of $VENTRAL_MIRROR (colon-separated, same
// layout), then in implicit folders (for mnist: the data/ folder of the GoMNIST module in the
// Go module cache), and finally downloads it into the cache. Every file found or downloaded
// is checked against its sha256; a successful check is remembered in a record keyed by
// device, inode, size, mtime and change time, so large files are hashed once and any edit is
// caught. Folders (raw trials, stimuli) are found with ResolveDir, which checks every
// registered file under them; stimulus files the registry does not list are not checked.
//
// # Data
//
// Load("mnist"|"cifar10", "train"|"test") returns an in-memory Dataset of float32 CHW images
// in [0,1]. CIFAR-10 comes from the class-folder zips (decoded in parallel, then kept as a
// decoded cache file in Home() keyed by the zip's sha256) or, with LoadCIFAR10Binary, from
// the official cifar-10-binary.tar.gz. LoadImageFolder and LoadImageZip read generic image
// sets (class subfolders or flat).
//
// # Batches
//
// NewLoader makes batches with a deterministic order and augmentation: everything random is
// derived from (Seed, epoch, batch index), so training can resume at any epoch boundary and
// see exactly the batches it would have seen. See Loader.Epoch.
package datasets

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Dataset is an in-memory image set.
type Dataset struct {
	Name    string    // e.g. "cifar10/train"
	X       []float32 // N*C*H*W values in [0,1], image i at X[i*C*H*W:]
	Labels  []int     // class index per image; nil for an unlabelled (flat) set
	Classes []string  // class names, index = label; nil for an unlabelled set
	Files   []string  // source file or entry name per image (may be nil)
	N       int
	C, H, W int
}

// Len returns the number of images.
func (d *Dataset) Len() int { return d.N }

// ImageSize returns C*H*W.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i as a CHW slice sharing the dataset's memory.
func (d *Dataset) Image(i int) []float32 {
	s := d.ImageSize()
	return d.X[i*s : (i+1)*s : (i+1)*s]
}

// Shape returns [N, C, H, W].
func (d *Dataset) Shape() [4]int { return [4]int{d.N, d.C, d.H, d.W} }

// ClassCounts returns the number of images per class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		if l >= 0 && l < len(c) {
			c[l]++
		}
	}
	return c
}

// Standard normalisation constants (per channel, on [0,1] values) of the training sets.
var (
	MNISTMean   = []float32{0.1307}
	MNISTStd    = []float32{0.3081}
	CIFAR10Mean = []float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std  = []float32{0.2470, 0.2435, 0.2616}
)

// CIFAR10Classes lists the CIFAR-10 classes in their official label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Normalization returns the standard per-channel mean and std of a dataset name.
func Normalization(name string) (mean, std []float32, err error) {
	switch name {
	case "mnist":
		return MNISTMean, MNISTStd, nil
	case "cifar10":
		return CIFAR10Mean, CIFAR10Std, nil
	}
	return nil, nil, fmt.Errorf("datasets: no normalisation constants for %q", name)
}

// Load returns a split ("train" or "test") of a named dataset ("mnist" or "cifar10"),
// resolving its files through the registry.
func Load(name, split string) (*Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("datasets: unknown split %q (want train or test)", split)
	}
	switch strings.ToLower(name) {
	case "mnist":
		return LoadMNIST(split)
	case "cifar10", "cifar-10":
		return LoadCIFAR10(split)
	}
	return nil, fmt.Errorf("datasets: unknown dataset %q (want mnist or cifar10)", name)
}

// LoadSplits returns train and test, loading with Load those that are nil: callers that accept
// data sets in place of a named one (experiments, tests) fill in what they were not given.
func LoadSplits(name string, train, test *Dataset) (*Dataset, *Dataset, error) {
	var err error
	if train == nil {
		if train, err = Load(name, "train"); err != nil {
			return nil, nil, err
		}
	}
	if test == nil {
		if test, err = Load(name, "test"); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

// u8set is a decoded image set of bytes, the form kept in decoded caches.
type u8set struct {
	pix     []byte
	labels  []int
	classes []string
	files   []string
	c, h, w int
}

func (s *u8set) n() int { return len(s.pix) / (s.c * s.h * s.w) }

func (s *u8set) dataset(name string) *Dataset {
	x := make([]float32, len(s.pix))
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	// Convert in parallel: 50,000 CIFAR images are 150 M values.
	const chunk = 1 << 20
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(x); lo += chunk {
		hi := min(lo+chunk, len(x))
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, v := range s.pix[lo:hi] {
				x[lo+i] = lut[v]
			}
			<-sem
		}()
	}
	wg.Wait()
	return &Dataset{Name: name, X: x, Labels: s.labels, Classes: s.classes, Files: s.files,
		N: s.n(), C: s.c, H: s.h, W: s.w}
}
