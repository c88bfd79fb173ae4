package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

// InitWeights fills w by the named scheme given fan-in and fan-out:
// "he" (Kaiming normal, std sqrt(2/fanIn), for ReLU nets; the default), "he-uniform",
// "glorot" (Xavier uniform, limit sqrt(6/(fanIn+fanOut))), "lecun" (std sqrt(1/fanIn)),
// "torch" (PyTorch's default: uniform with limit 1/sqrt(fanIn)), "zeros", and the two schemes
// of Cornford et al.'s (2021, ICLR) Dale's-law networks, which models.Constrain uses:
// "dann-exc" (non-negative weights drawn from an exponential distribution whose scale, equal to
// its standard deviation, is sqrt(2*pi/((2*pi-1)*fanIn)), for excitatory and inhibitory drive)
// and "dann-inh" (every weight -1/fanIn, so that a unit subtracts the mean of its inhibitory
// inputs). Together they balance inhibition against excitation at initialisation: the expected
// inhibitory input of every unit equals its expected excitatory input.
func InitWeights(w *tensor.Tensor, scheme string, fanIn, fanOut int, rng *rand.Rand) error {
	fi, fo := float64(max(fanIn, 1)), float64(max(fanOut, 1))
	switch scheme {
	case "", "he":
		std := math.Sqrt(2 / fi)
		for i := range w.Data {
			w.Data[i] = float32(rng.NormFloat64() * std)
		}
	case "he-uniform":
		fillUniform(w, math.Sqrt(6/fi), rng)
	case "glorot", "xavier":
		fillUniform(w, math.Sqrt(6/(fi+fo)), rng)
	case "lecun":
		std := math.Sqrt(1 / fi)
		for i := range w.Data {
			w.Data[i] = float32(rng.NormFloat64() * std)
		}
	case "torch":
		fillUniform(w, 1/math.Sqrt(fi), rng)
	case "zeros":
		w.Zero()
	case "dann-exc":
		scale := math.Sqrt(2 * math.Pi / ((2*math.Pi - 1) * fi))
		for i := range w.Data {
			w.Data[i] = float32(rng.ExpFloat64() * scale)
		}
	case "dann-inh":
		v := float32(-1 / fi)
		for i := range w.Data {
			w.Data[i] = v
		}
	default:
		return fmt.Errorf("unknown init %q (expected he, he-uniform, glorot, lecun, torch, zeros, dann-exc or dann-inh)", scheme)
	}
	return nil
}

func fillUniform(w *tensor.Tensor, limit float64, rng *rand.Rand) {
	for i := range w.Data {
		w.Data[i] = float32((rng.Float64()*2 - 1) * limit)
	}
}
