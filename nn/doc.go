// Package nn is ventral's neural-network engine: layers (ops) with forward and backward passes,
// composed into a Graph of named nodes.
//
// Every node's output can be read after a forward pass (the brain comparison reads layer
// activations this way), and a graph with Steps > 1 is unrolled over time: an input written
// "name@prev" reads that node's output from the previous step (zeros at the first step), which
// gives lateral and top-down recurrence, trained by backpropagation through time.
//
// Ops are stateless between calls: Forward returns a cache that Backward consumes, so one op can
// run at several time steps of an unrolled graph. An op's exported, JSON-tagged fields are its
// configuration, which is what a spec file holds; the op registry maps spec type names to ops.
// At inference, Graph.Forward fuses a channel_affine and a relu or clip into the convolution
// before them (fuse.go). Shapes are per sample (the batch axis is implicit): [C H W] for maps, [F] for vectors.
//
// The registered ops, by spec type (Go type in brackets; spec fields in each type's doc):
//
//	adaptive_avgpool  average into a fixed output grid, PyTorch's windows [AdaptiveAvgPool]
//	add               sum of inputs; two inputs may broadcast as in numpy [Add]
//	avgpool2d         window average; pad or asymmetric pads; ceil_mode; exclude_pad (ONNX default, TF) [AvgPool2D]
//	batchnorm         batch normalisation with running statistics [BatchNorm]
//	channel_affine    y = x*weight[c] + bias[c]: an unfolded inference batch norm [ChannelAffine]
//	clip              clamp to [min, max]; ReLU6 is clip 0..6 [Clip]
//	concat            join along one per-sample axis (default 0, channels) [Concat]
//	constant          a Param "value" repeated over the batch (ONNX initializer operands) [Constant]
//	conv2d            2-D convolution with groups (depthwise when groups = channels) [Conv2D]
//	conv_transpose2d  transposed convolution, one group (ONNX ConvTranspose) [ConvTranspose2D]
//	dense             fully connected layer [Dense]
//	div               a / b, numpy broadcasting of two inputs [Binary]
//	divnorm           divisive normalisation [DivNorm]
//	dropout           inverted dropout (identity at inference) [Dropout]
//	energy            complex-cell energy over a Gabor group [Energy]
//	fake_quant        simulated integer quantisation, straight-through gradient [FakeQuant]
//	flatten           each sample to a vector, C-major (PyTorch order) [Flatten]
//	gabor             fixed multi-scale Gabor filter bank [Gabor]
//	gain              per-channel gain (alias of scale) [Scale]
//	global_avgpool    channel means, [C H W] -> [C] [GlobalAvgPool]
//	global_max        channel maxima, [C ...] -> [C] [GlobalMax]
//	groupnorm         group normalisation [GroupNorm]
//	leaky_relu        leaky rectifier [Activation]
//	local2d           locally connected (unshared) convolution [Local2D]
//	lrn               local response normalisation across channels [LRN]
//	lstm              LSTM over a sequence [T F], BPTT inside the op; sequence: true returns every step [LSTM]
//	maxpool2d         window maximum; pad or asymmetric pads; ceil_mode; dilation [MaxPool2D]
//	mul               a * b, numpy broadcasting of two inputs [Binary]
//	pad2d             pad H and W: constant, reflect or edge; asymmetric [Pad2D]
//	rbf               HMAX S2 radial-basis units [RBF]
//	relu              rectifier [Activation]
//	reshape           per-sample reshape, one -1 inferred [Reshape]
//	s_cell            Neocognitron S-cell [SCell]
//	scale             per-channel gain [Scale]
//	scale_max         HMAX C1 max over scales and positions [ScaleMax]
//	sigmoid           logistic function [Activation]
//	slice             [start, end) of one per-sample axis (ONNX Split, Slice) [Slice]
//	softmax           softmax over one per-sample axis (default 0) [SoftmaxOp]
//	sub               a - b, numpy broadcasting of two inputs [Binary]
//	sublstm           subLSTM (Costa et al. 2017): subtractive gates; fixed_forget for fix-subLSTM [LSTM]
//	tanh              hyperbolic tangent [Activation]
//	transpose         permute the per-sample axes [Transpose]
//	upsample          nearest-neighbour upsampling [Upsample]
package nn
