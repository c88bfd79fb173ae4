package models

import (
	"fmt"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

func init() {
	register("resnet18", "ResNet-18 (He, Zhang, Ren and Sun 2016): 7x7 stem, max-pool, 4 stages of 2 BasicBlocks (batchnorm, skip adds); input size < 64 selects the CIFAR stem", resnet18)
	register("resnet18-cifar", "ResNet-18 for 32x32 CIFAR-10 images (He et al. 2016): 3x3 stride-1 stem without max-pool, 4 stages of 2 BasicBlocks, 10 classes", resnet18CIFAR)
	for _, d := range depthSeries {
		register(d.name, fmt.Sprintf("ResNet-%d for CIFAR-10 at a quarter of ResNet-18's width (He et al. 2016; stages of %v BasicBlocks, widths 16-32-64-128): one of a depth series at fixed width, for the depth question", d.depth, d.blocks), func(o Options) (*nn.Graph, error) {
			return resnetNet(d.name, o, or(o.InputSize, 32), true, d.blocks, 16)
		})
	}
}

// depthSeries are narrow CIFAR ResNets that differ only in depth (BasicBlocks per stage, as in
// He et al.'s ResNet-10/18/34), at base width 16 so that one CIFAR-10 epoch of the deepest takes
// minutes, not an hour, on two CPU cores. With the 4-conv cifar-cnn they let a laptop test the
// claim that very deep networks are less like the ventral stream (Brain-Score's deepest
// ImageNet networks do not score above mid-depth ones; Schrimpf et al. 2018, Nonaka et al. 2021).
var depthSeries = []struct {
	name   string
	depth  int
	blocks []int
}{
	{"resnet10-cifar-w16", 10, []int{1, 1, 1, 1}},
	{"resnet18-cifar-w16", 18, []int{2, 2, 2, 2}},
	{"resnet34-cifar-w16", 34, []int{3, 4, 6, 3}},
}

// resnetCIFARMax is the largest input side for which resnet18 switches to the CIFAR stem.
const resnetCIFARMax = 63

func resnet18(o Options) (*nn.Graph, error) {
	size := or(o.InputSize, 224)
	if size <= resnetCIFARMax {
		return resnetNet("resnet18", o, size, true, resnet18Blocks, 64)
	}
	return resnetNet("resnet18", o, size, false, resnet18Blocks, 64)
}

var resnet18Blocks = []int{2, 2, 2, 2}

func resnet18CIFAR(o Options) (*nn.Graph, error) {
	return resnetNet("resnet18-cifar", o, or(o.InputSize, 32), true, resnet18Blocks, 64)
}

// resnetNet builds a BasicBlock ResNet (blocks[s] blocks in stage s, widths base, 2*base,
// 4*base, 8*base; ResNet-18 is blocks 2,2,2,2 at base 64) as torchvision does (bias-free convolutions each followed by
// batchnorm; a 1x1 stride-2 convolution with batchnorm on the skip path where a stage changes
// size), with either the ImageNet stem (7x7 stride-2 convolution and 3x3 stride-2 max-pool) or
// the CIFAR stem (one 3x3 stride-1 convolution, as in the paper's CIFAR-10 networks and most
// CIFAR re-implementations of ResNet-18). Node names follow torchvision's module names
// (layer2.0.conv1 becomes layer2_0_conv1), so pretrained weights map one to one.
func resnetNet(name string, o Options, size int, cifar bool, blocks []int, base int) (*nn.Graph, error) {
	classes := or(o.Classes, 1000)
	if cifar {
		classes = or(o.Classes, 10)
	}
	g := &nn.Graph{Name: name, InputShape: []int{3, size, size}}
	bconv := func(out, k, stride, pad int) *nn.Conv2D {
		c := conv(out, k, stride, pad)
		c.NoBias = true
		return c
	}
	if cifar {
		g.Chain("conv1", bconv(base, 3, 1, 1)).Chain("bn1", &nn.BatchNorm{}).Chain("relu", nn.ReLU())
	} else {
		g.Chain("conv1", bconv(base, 7, 2, 3)).Chain("bn1", &nn.BatchNorm{}).Chain("relu", nn.ReLU()).
			Chain("maxpool", maxpool(3, 2, 1))
	}
	in, inC := g.Nodes[len(g.Nodes)-1].Name, base
	for s, nb := range blocks {
		width := base << s
		for b := 0; b < nb; b++ {
			stride := 1
			if s > 0 && b == 0 {
				stride = 2
			}
			p := fmt.Sprintf("layer%d_%d_", s+1, b)
			g.Add(p+"conv1", bconv(width, 3, stride, 1), in).Chain(p+"bn1", &nn.BatchNorm{}).Chain(p+"relu1", nn.ReLU()).
				Chain(p+"conv2", bconv(width, 3, 1, 1)).Chain(p+"bn2", &nn.BatchNorm{})
			skip := in
			if stride != 1 || inC != width {
				g.Add(p+"downsample_0", bconv(width, 1, stride, 0), in).Chain(p+"downsample_1", &nn.BatchNorm{})
				skip = p + "downsample_1"
			}
			g.Add(p+"add", nn.Add{}, p+"bn2", skip).Chain(fmt.Sprintf("layer%d_%d", s+1, b), nn.ReLU())
			in, inC = fmt.Sprintf("layer%d_%d", s+1, b), width
		}
	}
	g.Chain("avgpool", &nn.GlobalAvgPool{}).Chain("fc", &nn.Dense{Out: classes})
	citation := "He, Zhang, Ren and Sun 2016, Deep residual learning for image recognition, CVPR 770-778"
	if cifar {
		var names []string
		if classes == 10 {
			names = datasets.CIFAR10Classes
		}
		mean, std, err := datasets.Normalization("cifar10")
		if err != nil {
			return nil, err
		}
		return meta(g, citation+" (CIFAR stem)", names, stimuli.Preprocess{Size: size, RGB: true, Mean: mean, Std: std})
	}
	return meta(g, citation, nil,
		stimuli.Preprocess{Size: size, RGB: true, Mean: imagenetMean, Std: imagenetStd, VisualDegrees: 8})
}
