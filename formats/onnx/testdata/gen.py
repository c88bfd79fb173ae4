# Writes small.onnx and small.json: an ONNX model that uses every encoding formats/onnx reads
# (raw_data, float_data, int32_data, int64_data, double_data, float16 bits, uint64_data, every
# attribute kind, symbolic dims, metadata, two opsets), and what the onnx package reads from it.
# Run: /usr/bin/python3 gen.py (needs numpy and onnx).
import json
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(7)
w = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
inits = [
    numpy_helper.from_array(w, "w_raw"),  # raw_data
    helper.make_tensor("w_float", TensorProto.FLOAT, [3], [0.5, -1.25, 3.0]),  # float_data
    helper.make_tensor("i8", TensorProto.INT8, [4], [-128, -1, 0, 127]),  # int32_data
    helper.make_tensor("u8", TensorProto.UINT8, [2, 2], [0, 1, 128, 255]),
    helper.make_tensor("i64", TensorProto.INT64, [3], [-1, 2**40, 7]),  # int64_data
    helper.make_tensor("f64", TensorProto.DOUBLE, [2], [1.5, -2.25]),  # double_data
    helper.make_tensor("f16", TensorProto.FLOAT16, [3], np.array([1.0, -0.5, 65504], np.float16)),
    numpy_helper.from_array(np.array([3, -4], np.int64), "i64_raw"),
    numpy_helper.from_array(np.array([1.5, 6e-8], np.float16), "f16_raw"),
    helper.make_tensor("u64", TensorProto.UINT64, [2], [5, 2**33]),
    helper.make_tensor("scalar", TensorProto.FLOAT, [], [42.0]),
]
node = helper.make_node(
    "Conv", ["x", "w_raw"], ["y"], name="conv0",
    kernel_shape=[2, 2], pads=[1, 1, 0, 0], strides=[2, 1], group=1, auto_pad="NOTSET",
    alpha=0.25, fs=[1.0, 2.5], ss=["a", "bc"],
    t=helper.make_tensor("tv", TensorProto.FLOAT, [2], [9.0, 8.0]),
)
node2 = helper.make_node("Relu", ["y"], ["z"], name="", domain="")
graph = helper.make_graph(
    [node, node2], "small",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5, 5])],
    [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
    initializer=inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)],
                          producer_name="gen.py", producer_version="1")
helper.set_model_props(model, {"labels": "cat,dog", "note": "ü"})
onnx.save(model, "small.onnx")

m = onnx.load("small.onnx")
out = {
    "ir_version": m.ir_version,
    "opsets": {o.domain: o.version for o in m.opset_import},
    "metadata": {p.key: p.value for p in m.metadata_props},
    "initializers": {t.name: {"dims": list(t.dims), "type": t.data_type,
                              "values": numpy_helper.to_array(t).astype(np.float64).ravel().tolist()}
                     for t in m.graph.initializer},
    "nodes": [{"name": n.name, "op": n.op_type, "inputs": list(n.input), "outputs": list(n.output),
               "attrs": {a.name: a.type for a in n.attribute}} for n in m.graph.node],
}
with open("small.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
