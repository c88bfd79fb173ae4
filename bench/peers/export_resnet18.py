"""Exports torchvision's ResNet-18 (seeded random weights, eval mode) to ONNX at opset 13, for
`ventral bench import`. Usage: export_resnet18.py OUT.onnx"""
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")
torch.manual_seed(0)
m = torchvision.models.resnet18(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
torch.onnx.export(m, x, sys.argv[1], opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
