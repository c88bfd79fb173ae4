"""Rewrites an ONNX model's int8 QLinearConv / QLinearMatMul weights as uint8 (w + 128, zero
point + 128): the same real-valued weights, so the same integer network by the ONNX spec.

Why: onnxruntime's u8 x s8 kernels on x86 CPUs with AVX2 but without VNNI add pairs of
products in 16-bit registers with saturation (vpmaddubsw), so on such machines its QLinearConv
output is not the spec's integer result (verified on MobileNetV2's first convolution: the
saturating pairwise sum reproduces onnxruntime exactly, the exact sum differs on 14% of the
outputs). Its u8 x u8 kernels widen to 16 bits first and are exact, so the rewritten model gives
the spec's integer reference. Usage: u8_weights.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

m = onnx.load(sys.argv[1])
inits = {t.name: t for t in m.graph.initializer}
done = set()
for n in m.graph.node:
    if n.op_type not in ("QLinearConv", "QLinearMatMul"):
        continue
    w, zp = n.input[3], n.input[5]
    if w in done or zp in done or w not in inits or zp not in inits:
        continue
    wa, za = numpy_helper.to_array(inits[w]), numpy_helper.to_array(inits[zp])
    if wa.dtype != np.int8:
        continue
    inits[w].CopyFrom(numpy_helper.from_array((wa.astype(np.int16) + 128).astype(np.uint8), w))
    inits[zp].CopyFrom(numpy_helper.from_array((za.astype(np.int16) + 128).astype(np.uint8), zp))
    done.update((w, zp))
onnx.save(m, sys.argv[2])
