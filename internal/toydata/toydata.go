// Package toydata makes tiny labelled image sets for tests of training experiments: small enough
// to train on in a second, structured enough that a working network learns them.
package toydata

import (
	"math/rand/v2"

	"github.com/ventral-lab/ventral/datasets"
)

// Squares returns n 3x12x12 images of 3 classes: a bright 4x4 square on channel c (the class),
// at a seeded position, over uniform noise.
func Squares(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	per := 3 * 144
	ds := &datasets.Dataset{Name: "synthetic", N: n, C: 3, H: 12, W: 12, Classes: []string{"r", "g", "b"}, X: make([]float32, n*per), Labels: make([]int, n)}
	for i := 0; i < n; i++ {
		c := i % 3
		ds.Labels[i] = c
		img := ds.X[i*per : (i+1)*per]
		for j := range img {
			img[j] = float32(rng.Float64() * 0.5)
		}
		y, x := rng.IntN(8), rng.IntN(8)
		for d := 0; d < 16; d++ {
			img[c*144+(y+d/4)*12+x+d%4] += 0.5
		}
	}
	return ds
}
