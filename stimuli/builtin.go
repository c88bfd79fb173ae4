package stimuli

import (
	"fmt"

	"github.com/ventral-lab/ventral/datasets"
)

// Kriegeskorte92 loads the 92 object images of Kriegeskorte et al. (2008) from the
// registered supplemental .mat file (found through datasets.Resolve, hash-checked). Ids are
// "1" to "92" in the order of the RDM rows; columns: category (e.g. "human face", "natural
// inanimate"), human, face, animal, natural (0/1 as in the file) and animacy ("animate" where
// animal is 1, else "inanimate"). Images are 175x175 RGB.
func Kriegeskorte92() (*Set, error) {
	p, err := datasets.Resolve("kriegeskorte92", "Kriegeskorte_Neuron2008_supplementalData.mat")
	if err != nil {
		return nil, err
	}
	return Kriegeskorte92From(p)
}

// Kriegeskorte92From is Kriegeskorte92 reading a given copy of
// Kriegeskorte_Neuron2008_supplementalData.mat.
func Kriegeskorte92From(path string) (*Set, error) {
	s, err := FromMat("kriegeskorte92", path, "stimuli_92objs", "image")
	if err != nil {
		return nil, err
	}
	if s.Len() != 92 {
		return nil, fmt.Errorf("%s: stimuli_92objs has %d elements, expected 92", path, s.Len())
	}
	animal, err := s.Meta("animal")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	anim := make([]string, len(animal))
	for i, a := range animal {
		anim[i] = "inanimate"
		if a == "1" {
			anim[i] = "animate"
		}
	}
	if err := s.SetMeta("animacy", anim); err != nil {
		return nil, err
	}
	return s, nil
}

// AllenMouseV1 loads the natural-scene stimuli of the Allen Brain Observatory mouse V1 data
// (split "train": 100 scenes, "test": 18), 31x31 greyscale images scaled from 0-255 to [0,1],
// with ids "0", "1", ... in row order of the matching response file.
func AllenMouseV1(split string) (*Set, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("allen-mouse-v1: unknown split %q (train or test)", split)
	}
	p, err := datasets.Resolve("allen-mouse-v1", "Allen_"+split+"_input.npy")
	if err != nil {
		return nil, err
	}
	return AllenMouseV1From(p, split)
}

// AllenMouseV1From is AllenMouseV1 reading a given copy of Allen_<split>_input.npy.
func AllenMouseV1From(path, split string) (*Set, error) {
	return FromNpy("allen-mouse-v1/"+split, path, NpyOptions{Shape: []int{31, 31}, Scale: 255})
}
