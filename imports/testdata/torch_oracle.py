"""PyTorch as the oracle for ventral's ONNX importer (run by imports/torch_oracle_test.go).

For each torchvision architecture, with seeded random weights (and random batch-norm statistics,
so that the folded batch norms are not identities) in eval mode, this exports the network with
torch.onnx.export at the requested opsets and records the output of every leaf module (forward
hooks) under the name of the ONNX value that holds it.

Mapping a module to its ONNX value: torch (>= 1.13) names each ONNX node "/scope/Op", where the
scope lists the module path ("layer4.1.conv2" -> "/layer4/layer4.1/conv2"; a module called a
second time gets "_1"). The module's output is the output of the last node in its scope. A
batch norm folded into its convolution has no node; its output is then the convolution's value
(and the convolution's own, pre-norm output is not compared).

Usage: torch_oracle.py OUTDIR [MODEL[:SIZE] ...]   (default: all models, sizes as in SIZES)
Writes OUTDIR/<model>_op<opset>/{model.onnx, input.bin, refs.bin, refs.json}: input.bin is the
float32 input [1 3 S S], refs.bin the float32 references back to back, refs.json a list of
{"name", "module", "shape", "offset"} (offset in floats) with the logits last.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

MODELS = {
    "alexnet": lambda: torchvision.models.alexnet(weights=None),
    "vgg11": lambda: torchvision.models.vgg11(weights=None),
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "squeezenet1_1": lambda: torchvision.models.squeezenet1_1(weights=None),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(weights=None),
    "densenet121": lambda: torchvision.models.densenet121(weights=None),
    "googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True),
    # Not torchvision: transposed convolutions (output padding, groups, dilation) as a decoder
    # exports them.
    "deconv": lambda: torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1), torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2),
        torch.nn.ConvTranspose2d(4, 4, 3, stride=1, padding=2, dilation=2, bias=False),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 10)),
}
# Default input sizes: AlexNet and VGG-11 need 224 (their adaptive pools export as fixed
# pools only when the feature map divides 6x6 or 7x7); the fully convolutional networks run at
# 112 px to keep the test fast (their graphs do not depend on the input size).
SIZES = {"alexnet": 224, "vgg11": 224, "deconv": 32}
DEFAULT_SIZE = 112
# AlexNet and VGG-11 (61M and 133M parameters) take most of the run's time writing and reading
# their files, so by default they are exported at opset 13 only; VENTRAL_TORCH_FULL=1 exports
# every network at both opsets. (Their graphs are the same at both opsets: Conv, Relu, MaxPool,
# Flatten, Gemm and, for AlexNet, AveragePool.)
BIG = ("alexnet", "vgg11")
OPSETS = (11, 13)


def scope_of(qualified):
    """The ONNX scope torch gives the module at this qualified name."""
    segs = []
    parts = qualified.split(".")
    for i, p in enumerate(parts):
        segs.append(parts[i - 1] + "." + p if p.isdigit() and i > 0 else p)
    return "/" + "/".join(segs)


def build(name, seed=0):
    torch.manual_seed(seed)
    m = MODELS[name]()
    g = torch.Generator().manual_seed(seed + 1)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            with torch.no_grad():
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(c, generator=g) * 0.1)
    return m.eval()


def run(outdir, name, size, opsets):
    import onnx

    m = build(name)
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(7))
    calls = []  # (scope, module type, output) in call order
    counts = {}

    def hook(qual):
        def f(mod, inp, out):
            k = counts.get(qual, 0)
            counts[qual] = k + 1
            s = scope_of(qual) + ("_%d" % k if k else "")
            calls.append((s, type(mod).__name__, out.detach().clone()))
        return f

    for qual, mod in m.named_modules():
        if qual and not list(mod.children()):
            mod.register_forward_hook(hook(qual))
    with torch.no_grad():
        logits = m(x)
    recorded = list(calls)  # the export runs the model again; its calls are not references
    for opset in opsets:
        d = os.path.join(outdir, "%s_op%d" % (name, opset))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        counts.clear()
        with torch.no_grad():
            torch.onnx.export(m, x, path, opset_version=opset, input_names=["input"], output_names=["logits"])
        graph = onnx.load(path, load_external_data=False).graph
        last = {}
        for n in graph.node:
            last[n.name.rsplit("/", 1)[0]] = n.output[0]
        refs = {}
        prev_conv = None
        for s, typ, out in recorded:
            v = last.get(s)
            if v is None and typ.startswith("BatchNorm") and prev_conv is not None:
                refs.pop(prev_conv[0], None)
                v = prev_conv[0]
            if v is None or typ.startswith("Dropout"):
                continue
            refs[v] = (s, out)
            prev_conv = (v, s) if typ == "Conv2d" else None
        refs["logits"] = ("logits", logits)
        index, off = [], 0
        with open(os.path.join(d, "refs.bin"), "wb") as f:
            for v, (s, out) in refs.items():
                a = out.numpy().astype(np.float32)
                f.write(a.tobytes())
                index.append({"name": v, "module": s, "shape": list(a.shape), "offset": off})
                off += a.size
        x.numpy().astype(np.float32).tofile(os.path.join(d, "input.bin"))
        with open(os.path.join(d, "refs.json"), "w") as f:
            json.dump(index, f)


def main():
    outdir = sys.argv[1]
    specs = sys.argv[2:] or list(MODELS)
    for spec in specs:
        name, _, size = spec.partition(":")
        opsets = OPSETS
        if name in BIG and not os.environ.get("VENTRAL_TORCH_FULL"):
            opsets = (13,)
        run(outdir, name, int(size or SIZES.get(name, DEFAULT_SIZE)), opsets)


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    main()
