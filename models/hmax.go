package models

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	register("hmax", "HMAX (Riesenhuber and Poggio 1999; Serre et al. 2007): S1 Gabor bank of 16 sizes x 4 orientations, C1 max over 8 bands, S2 Gaussian RBF matching to prototypes of 4x4 to 16x16 C1 patches, C2 global max; untrained (sample prototypes with HMAXPrototypes)", hmax)
}

// hmaxBands is table 1 of Serre, Wolf, Bileschi, Riesenhuber and Poggio 2007 (PAMI 29:411):
// per C1 band, two S1 filter sizes with their Gabor σ and λ, the C1 pooling grid N and the
// sampling step Δs (the grid overlaps its neighbours by half). The sizes, σ, λ and grids agree
// with two independent public re-implementations of the Serre et al. model;
// at least one of them uses other C1 steps.
var hmaxBands = []struct {
	sizes      [2]int
	sigma, lam [2]float64
	grid, step int
}{
	{[2]int{7, 9}, [2]float64{2.8, 3.6}, [2]float64{3.5, 4.6}, 8, 4},
	{[2]int{11, 13}, [2]float64{4.5, 5.4}, [2]float64{5.6, 6.8}, 10, 5},
	{[2]int{15, 17}, [2]float64{6.3, 7.3}, [2]float64{7.9, 9.1}, 12, 6},
	{[2]int{19, 21}, [2]float64{8.2, 9.2}, [2]float64{10.3, 11.5}, 14, 7},
	{[2]int{23, 25}, [2]float64{10.2, 11.3}, [2]float64{12.7, 14.1}, 16, 8},
	{[2]int{27, 29}, [2]float64{12.3, 13.4}, [2]float64{15.4, 16.8}, 18, 9},
	{[2]int{31, 33}, [2]float64{14.6, 15.8}, [2]float64{18.2, 19.7}, 20, 10},
	{[2]int{35, 37}, [2]float64{17.0, 18.2}, [2]float64{21.2, 22.8}, 22, 11},
}

// HMAXPatchSizes are the S2 prototype sides in C1 units (Serre et al. 2007: 4, 8, 12, 16, over
// all 4 orientations); one rbf layer s2_N per size.
var HMAXPatchSizes = []int{4, 8, 12, 16}

// hmaxProtos is the default number of prototypes per patch size (1000 in all, as in Serre et
// al. 2007's larger experiments).
const hmaxProtos = 250

// hmax builds the model. Layers: s1 (|normalised Gabor|, 64 channels = size·4 + orientation, at
// full resolution), c1_b1..c1_b8 (4 orientations each, max over the band's two sizes and its
// pooling grid), s2_4..s2_16 ([prototypes, positions over all bands]), c2 (the maximum of every
// S2 unit over positions and bands: 4 x 250 features).
//
// As in Serre et al. 2007: orientations 0, 45, 90, 135 degrees, aspect γ = 0.3, filters
// zero-mean, unit-norm and cut to a disc, S1 = |Σ w·x| / ||x|| over the filter window; C1 grid
// N and step Δs from the table; S2 r = exp(-||X-P||^2/(2σ^2 α)) with σ = 1 and α = (n/4)^2 for
// n x n patches (Mutch and Lowe 2008's normalisation of β). Simplifications: S2 is computed
// only where the whole patch lies inside a band (bands smaller than a patch are skipped), the
// image is not padded before C1 pooling, and prototypes come from any band at random.
func hmax(o Options) (*nn.Graph, error) {
	size := or(o.InputSize, 160)
	s1 := &nn.Gabor{Orientations: 4, Aspect: 0.3, Circular: true, Normalize: true, Rectify: "abs"}
	for _, b := range hmaxBands {
		for i := range 2 {
			s1.Sizes = append(s1.Sizes, b.sizes[i])
			s1.Sigmas = append(s1.Sigmas, b.sigma[i])
			s1.Wavelengths = append(s1.Wavelengths, b.lam[i])
		}
	}
	g := &nn.Graph{Name: "hmax", InputShape: []int{1, size, size}}
	g.Add("s1", s1, nn.InputName)
	var c1 []string
	for i, b := range hmaxBands {
		name := fmt.Sprintf("c1_b%d", i+1)
		if size < b.grid {
			return nil, fmt.Errorf("hmax: input size %d is smaller than band %d's C1 grid %d", size, i+1, b.grid)
		}
		g.Add(name, &nn.ScaleMax{Group: 4, Scales: []int{2 * i, 2*i + 1}, Kernel: nn.Dims{b.grid}, Stride: nn.Dims{b.step}}, "s1")
		c1 = append(c1, name)
	}
	var s2 []string
	for _, n := range HMAXPatchSizes {
		name := fmt.Sprintf("s2_%d", n)
		g.Add(name, &nn.RBF{Prototypes: hmaxProtos, Size: n, Sigma: 1}, c1...)
		s2 = append(s2, name)
	}
	g.Add("c2", &nn.GlobalMax{}, s2...)
	return meta(g, "Riesenhuber and Poggio 1999, Nat. Neurosci. 2:1019; parameters of Serre, Wolf, Bileschi, Riesenhuber and Poggio 2007, IEEE PAMI 29:411 (table 1); S2 normalisation after Mutch and Lowe 2008, IJCV 80:45", nil,
		stimuli.Preprocess{Size: size, Grey: true})
}

// HMAXPrototypes samples the S2 prototypes of a built HMAX-style graph from its C1 responses to
// images ([N, InputShape...], preprocessed model inputs), as Serre et al. 2007 do from training
// images: every rbf layer gets n prototypes (its prototypes field is set to n and the graph
// rebuilt when it differs), each an n x n x C patch of a C1 input taken at a random image, band
// and position, all distinct. The draw depends only on seed, the layer name and the images. The
// graph's metadata records what was done ("prototypes").
func HMAXPrototypes(g *nn.Graph, images *tensor.Tensor, n int, seed uint64) error {
	if n <= 0 {
		return fmt.Errorf("hmax prototypes: n must be positive, got %d", n)
	}
	if images == nil || len(images.Shape) != len(g.InputShape)+1 || !tensor.SameShape(images.Shape[1:], g.InputShape) || images.Shape[0] == 0 {
		var sh []int
		if images != nil {
			sh = images.Shape
		}
		return fmt.Errorf("hmax prototypes: images have shape %v, expected [N %v] with N >= 1", sh, g.InputShape)
	}
	var rbfs []*nn.Node
	changed := !g.Built()
	for _, node := range g.Nodes {
		if r, ok := node.Op.(*nn.RBF); ok {
			rbfs = append(rbfs, node)
			if r.Prototypes != n {
				r.Prototypes = n
				changed = true
			}
		}
	}
	if len(rbfs) == 0 {
		return fmt.Errorf("hmax prototypes: model %q has no rbf layer", g.Name)
	}
	if changed {
		if err := g.Build(g.Seed()); err != nil {
			return err
		}
	}
	// Check the counts before running anything.
	nimg := images.Shape[0]
	for _, node := range rbfs {
		oh, ow := node.Op.(*nn.RBF).Positions()
		per := 0
		for b := range oh {
			per += oh[b] * ow[b]
		}
		if n > per*nimg {
			return fmt.Errorf("hmax prototypes: %d prototypes for %s but its inputs have only %d patches in %d images", n, node.Name, per*nimg, nimg)
		}
	}
	// C1 responses of every image, per input layer.
	var keep []string
	seen := map[string]bool{}
	for _, node := range rbfs {
		for _, in := range node.Inputs {
			if !seen[in] {
				seen[in] = true
				keep = append(keep, in)
			}
		}
	}
	c1 := map[string]*tensor.Tensor{}
	per := images.Len() / nimg
	const batch = 8
	for s0 := 0; s0 < nimg; s0 += batch {
		nb := min(batch, nimg-s0)
		x := tensor.FromData(images.Data[s0*per:(s0+nb)*per], append([]int{nb}, g.InputShape...)...)
		tr, err := g.Forward(nn.NewCtx(false, 0), x, keep...)
		if err != nil {
			return err
		}
		for _, k := range keep {
			o := tr.Out(k)
			if c1[k] == nil {
				c1[k] = tensor.New(append([]int{nimg}, o.Shape[1:]...)...)
			}
			copy(c1[k].Data[s0*(o.Len()/nb):], o.Data)
		}
	}
	for _, node := range rbfs {
		r := node.Op.(*nn.RBF)
		oh, ow := r.Positions()
		perImg := 0
		for b := range oh {
			perImg += oh[b] * ow[b]
		}
		h := fnv.New64a()
		h.Write([]byte(node.Name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		pt := r.PrototypeTensor()
		c, k := pt.Shape[1], pt.Shape[2]
		for p, idx := range sampleDistinct(rng, perImg*nimg, n) {
			img, pos := idx/perImg, idx%perImg
			b := 0
			for pos >= oh[b]*ow[b] {
				pos -= oh[b] * ow[b]
				b++
			}
			oy, ox := pos/ow[b], pos%ow[b]
			src := c1[node.Inputs[b]]
			bh, bw := src.Shape[2], src.Shape[3]
			for ci := 0; ci < c; ci++ {
				for i := 0; i < k; i++ {
					row := src.Data[((img*c+ci)*bh+oy+i)*bw+ox:]
					copy(pt.Data[((p*c+ci)*k+i)*k:((p*c+ci)*k+i+1)*k], row[:k])
				}
			}
		}
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta["prototypes"] = fmt.Sprintf("%d per S2 layer, sampled with seed %d from C1 responses to %d images", n, seed, nimg)
	return nil
}

// sampleDistinct draws k distinct integers from [0, n) (Floyd's algorithm), in a deterministic
// order for a given rng state.
func sampleDistinct(rng *rand.Rand, n, k int) []int {
	out := make([]int, 0, k)
	in := make(map[int]bool, k)
	for j := n - k; j < n; j++ {
		t := rng.IntN(j + 1)
		if in[t] {
			t = j
		}
		in[t] = true
		out = append(out, t)
	}
	return out
}
