package models

import (
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

func init() {
	register("lenet5", "LeNet-5 (LeCun et al. 1998), ReLU and max-pooling variant, for 1x28x28 digits", lenet5)
	register("cifar-cnn", "four 3x3 convolutions, two max-pools, fc512 with dropout: the PyTorch peer's CIFAR-10 network", cifarCNN)
	register("alexnet", "AlexNet as in the two-GPU original (Krizhevsky, Sutskever and Hinton 2012): LRN, grouped conv2/4/5, dropout", alexnet)
	register("alexnet-torchvision", "AlexNet as in torchvision (64-192-384-256-256 channels, no LRN or groups), the peer's benchmark network", alexnetTV)
	register("cornet-z", "CORnet-Z (Kubilius et al. 2018): areas V1, V2, V4, IT of one conv + relu + max-pool each, then a linear decoder", cornetZ)
}

func lenet5(o Options) (*nn.Graph, error) {
	classes := or(o.Classes, 10)
	g := &nn.Graph{Name: "lenet5", InputShape: []int{1, 28, 28}}
	g.Chain("conv1", conv(6, 5, 1, 2)).Chain("relu1", nn.ReLU()).Chain("pool1", maxpool(2, 2, 0)).
		Chain("conv2", conv(16, 5, 1, 0)).Chain("relu2", nn.ReLU()).Chain("pool2", maxpool(2, 2, 0)).
		Chain("flatten", nn.Flatten{}).
		Chain("fc1", &nn.Dense{Out: 120}).Chain("relu3", nn.ReLU()).
		Chain("fc2", &nn.Dense{Out: 84}).Chain("relu4", nn.ReLU()).
		Chain("fc3", &nn.Dense{Out: classes})
	return meta(g, "LeCun, Bottou, Bengio and Haffner 1998, Proc. IEEE 86:2278", nil, stimuli.Preprocess{Size: 28, Grey: true, Mean: datasets.MNISTMean, Std: datasets.MNISTStd})
}

func cifarCNN(o Options) (*nn.Graph, error) {
	classes := or(o.Classes, 10)
	size := or(o.InputSize, 32)
	g := &nn.Graph{Name: "cifar-cnn", InputShape: []int{3, size, size}}
	g.Chain("conv1", conv(32, 3, 1, 1)).Chain("relu1", nn.ReLU()).
		Chain("conv2", conv(32, 3, 1, 1)).Chain("relu2", nn.ReLU()).Chain("pool1", maxpool(2, 2, 0)).
		Chain("conv3", conv(64, 3, 1, 1)).Chain("relu3", nn.ReLU()).
		Chain("conv4", conv(64, 3, 1, 1)).Chain("relu4", nn.ReLU()).Chain("pool2", maxpool(2, 2, 0)).
		Chain("flatten", nn.Flatten{}).
		Chain("fc1", &nn.Dense{Out: 512}).Chain("relu5", nn.ReLU()).Chain("drop", &nn.Dropout{P: 0.5}).
		Chain("fc2", &nn.Dense{Out: classes})
	var names []string
	if classes == 10 {
		names = datasets.CIFAR10Classes
	}
	mean, std, err := datasets.Normalization("cifar10")
	if err != nil {
		return nil, err
	}
	return meta(g, "ventral's CIFAR-10 baseline, as in shared/bench/torch_peers.py", names,
		stimuli.Preprocess{Size: size, RGB: true, Mean: mean, Std: std})
}

var imagenetMean, imagenetStd = []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}

func alexnet(o Options) (*nn.Graph, error) {
	classes := or(o.Classes, 1000)
	size := or(o.InputSize, 224)
	g := &nn.Graph{Name: "alexnet", InputShape: []int{3, size, size}}
	lrn := func() *nn.LRN { return &nn.LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2} }
	grouped := func(out, k, pad int) *nn.Conv2D { c := conv(out, k, 1, pad); c.Groups = 2; return c }
	g.Chain("conv1", conv(96, 11, 4, 2)).Chain("relu1", nn.ReLU()).Chain("norm1", lrn()).Chain("pool1", maxpool(3, 2, 0)).
		Chain("conv2", grouped(256, 5, 2)).Chain("relu2", nn.ReLU()).Chain("norm2", lrn()).Chain("pool2", maxpool(3, 2, 0)).
		Chain("conv3", conv(384, 3, 1, 1)).Chain("relu3", nn.ReLU()).
		Chain("conv4", grouped(384, 3, 1)).Chain("relu4", nn.ReLU()).
		Chain("conv5", grouped(256, 3, 1)).Chain("relu5", nn.ReLU()).Chain("pool5", maxpool(3, 2, 0)).
		Chain("avgpool", &nn.AdaptiveAvgPool{Out: nn.Dims{6}}).Chain("flatten", nn.Flatten{}).
		Chain("drop6", &nn.Dropout{P: 0.5}).Chain("fc6", &nn.Dense{Out: 4096}).Chain("relu6", nn.ReLU()).
		Chain("drop7", &nn.Dropout{P: 0.5}).Chain("fc7", &nn.Dense{Out: 4096}).Chain("relu7", nn.ReLU()).
		Chain("fc8", &nn.Dense{Out: classes})
	return meta(g, "Krizhevsky, Sutskever and Hinton 2012, NIPS 25:1097", nil,
		stimuli.Preprocess{Size: size, RGB: true, Mean: imagenetMean, Std: imagenetStd, VisualDegrees: 8})
}

func alexnetTV(o Options) (*nn.Graph, error) {
	classes := or(o.Classes, 1000)
	size := or(o.InputSize, 224)
	g := &nn.Graph{Name: "alexnet-torchvision", InputShape: []int{3, size, size}}
	g.Chain("conv1", conv(64, 11, 4, 2)).Chain("relu1", nn.ReLU()).Chain("pool1", maxpool(3, 2, 0)).
		Chain("conv2", conv(192, 5, 1, 2)).Chain("relu2", nn.ReLU()).Chain("pool2", maxpool(3, 2, 0)).
		Chain("conv3", conv(384, 3, 1, 1)).Chain("relu3", nn.ReLU()).
		Chain("conv4", conv(256, 3, 1, 1)).Chain("relu4", nn.ReLU()).
		Chain("conv5", conv(256, 3, 1, 1)).Chain("relu5", nn.ReLU()).Chain("pool5", maxpool(3, 2, 0)).
		Chain("avgpool", &nn.AdaptiveAvgPool{Out: nn.Dims{6}}).Chain("flatten", nn.Flatten{}).
		Chain("drop6", &nn.Dropout{P: 0.5}).Chain("fc6", &nn.Dense{Out: 4096}).Chain("relu6", nn.ReLU()).
		Chain("drop7", &nn.Dropout{P: 0.5}).Chain("fc7", &nn.Dense{Out: 4096}).Chain("relu7", nn.ReLU()).
		Chain("fc8", &nn.Dense{Out: classes})
	return meta(g, "Krizhevsky 2014 (one weird trick), arXiv:1404.5997, as torchvision implements it", nil,
		stimuli.Preprocess{Size: size, RGB: true, Mean: imagenetMean, Std: imagenetStd, VisualDegrees: 8})
}

func cornetZ(o Options) (*nn.Graph, error) {
	classes := or(o.Classes, 1000)
	size := or(o.InputSize, 224)
	g := &nn.Graph{Name: "cornet-z", InputShape: []int{3, size, size}}
	area := func(name string, out, k, stride int) {
		g.Chain(name+"_conv", conv(out, k, stride, k/2)).Chain(name+"_relu", nn.ReLU()).Chain(name, maxpool(3, 2, 1))
	}
	area("V1", 64, 7, 2)
	area("V2", 128, 3, 1)
	area("V4", 256, 3, 1)
	area("IT", 512, 3, 1)
	g.Chain("avgpool", &nn.GlobalAvgPool{}).Chain("decoder", &nn.Dense{Out: classes})
	return meta(g, "Kubilius, Schrimpf et al. 2018, CORnet: modeling the core ventral visual stream, bioRxiv 408385", nil,
		stimuli.Preprocess{Size: size, RGB: true, Mean: imagenetMean, Std: imagenetStd, VisualDegrees: 8})
}
