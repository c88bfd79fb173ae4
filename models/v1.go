package models

import (
	"math"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

func init() {
	register("gabor-v1", "V1 simple and complex cells (Hubel and Wiesel 1962): half-wave rectified Gabor filters, 8 orientations x 3 wavelengths x 4 phases (layer simple), and their energy, quadrature pairs squared and summed (layer complex; Adelson and Bergen 1985); untrained", gaborV1)
}

// V1 bank: wavelengths of 3, 6 and 12 pixels (at 128 px over 8 degrees, 5.3, 2.7 and 1.3
// cycles/degree), envelope σ = 0.56 λ (a spatial-frequency bandwidth of about one octave),
// aspect 0.5, kernels of side 2·ceil(3σ)+1 cut to a disc.
var v1Wavelengths = []float64{3, 6, 12}

func gaborV1(o Options) (*nn.Graph, error) {
	size := or(o.InputSize, 128)
	bank := &nn.Gabor{Orientations: 8, Phases: []float64{0, 90, 180, 270}, Aspect: 0.5, Circular: true}
	for _, lam := range v1Wavelengths {
		sig := math.Round(0.56*lam*100) / 100
		bank.Wavelengths = append(bank.Wavelengths, lam)
		bank.Sigmas = append(bank.Sigmas, sig)
		bank.Sizes = append(bank.Sizes, 2*int(math.Ceil(3*sig))+1)
	}
	g := &nn.Graph{Name: "gabor-v1", InputShape: []int{1, size, size}}
	// Channel (scale·8 + orientation)·4 + phase in gabor and simple; scale·8 + orientation in
	// complex, the sum over the 4 phases of the squared half-wave rectified responses, which is
	// even^2 + odd^2 of the quadrature pair.
	g.Chain("gabor", bank).Chain("simple", nn.ReLU()).Chain("complex", &nn.Energy{Group: 4})
	return meta(g, "Hubel and Wiesel 1962, J. Physiol. 160:106 (simple and complex cells); Gabor receptive fields after Jones and Palmer 1987, J. Neurophysiol. 58:1233; energy model after Adelson and Bergen 1985, JOSA A 2:284", nil,
		stimuli.Preprocess{Size: size, Grey: true, VisualDegrees: 8})
}
