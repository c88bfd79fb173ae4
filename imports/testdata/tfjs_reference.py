"""Independent numpy reference of a TF.js layers model (model.json + weight shards) for
TestTFJSNumpyReference: it reads the files itself and runs the Keras layers in NHWC, float64.

usage: tfjs_reference.py MODEL_JSON INPUT_NPY OUT_DIR LAYER...

INPUT_NPY holds [N C H W] float32 inputs (ventral's layout, already preprocessed); each named
layer's output is written to OUT_DIR/LAYER.npy as float32 in ventral's layout ([N C H W] for
images, [N F] otherwise).
"""
import json
import os
import sys

import numpy as np


def load(model_json):
    with open(model_json) as f:
        m = json.load(f)
    topo = m["modelTopology"]
    if "model_config" in topo:
        topo = topo["model_config"]
    weights = {}
    folder = os.path.dirname(model_json)
    for group in m["weightsManifest"]:
        buf = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            assert w["dtype"] == "float32" and "quantization" not in w, w
            weights[w["name"]] = np.frombuffer(buf, "<f4", n, off).reshape(w["shape"]).astype(np.float64)
            off += 4 * n
        assert off == len(buf), (group["paths"], off, len(buf))
    return topo, weights


def same_pad(x, k, s, d):
    """TF SAME: output ceil(in/s); the total padding goes after when it is odd."""
    pads = [(0, 0)]
    for ax in (1, 2):
        n = x.shape[ax]
        out = -(-n // s[ax - 1])
        total = max((out - 1) * s[ax - 1] + (k[ax - 1] - 1) * d[ax - 1] + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    pads.append((0, 0))
    return np.pad(x, pads)


def windows(x, k, s, d):
    """Yields (ky, kx, view) with view[n, i, j, c] = x[n, i*s + ky*d, j*s + kx*d, c]."""
    n, h, w, c = x.shape
    oh = (h - (k[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (w - (k[1] - 1) * d[1] - 1) // s[1] + 1
    for ky in range(k[0]):
        for kx in range(k[1]):
            y0, x0 = ky * d[0], kx * d[1]
            yield ky, kx, x[:, y0:y0 + (oh - 1) * s[0] + 1:s[0], x0:x0 + (ow - 1) * s[1] + 1:s[1], :]


def act(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "relu6":
        return np.minimum(np.maximum(x, 0), 6)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation " + name)


def pair(v, default):
    if v is None:
        return [default, default]
    if isinstance(v, int):
        return [v, v]
    return list(v)


def conv(x, kern, s, d, groups=1):
    """kern [kh kw in/groups out]; x already padded."""
    k = kern.shape[:2]
    cin = x.shape[3] // groups
    cout = kern.shape[3] // groups
    outs = []
    for g in range(groups):
        xs = x[..., g * cin:(g + 1) * cin]
        ks = kern[..., g * cout:(g + 1) * cout]
        outs.append(sum(np.tensordot(v, ks[ky, kx], axes=([3], [0])) for ky, kx, v in windows(xs, k, s, d)))
    return np.concatenate(outs, axis=3)


def depthwise(x, kern, s, d):
    """kern [kh kw in mult]: output channel c*mult + m."""
    k = kern.shape[:2]
    y = sum(v[..., :, None] * kern[ky, kx] for ky, kx, v in windows(x, k, s, d))
    return y.reshape(y.shape[:3] + (-1,))


def pool(x, k, s, padding, kind):
    n, h, w, c = x.shape
    if padding == "same":
        pads = []
        for ax in (0, 1):
            size = (h, w)[ax]
            out = -(-size // s[ax])
            total = max((out - 1) * s[ax] + k[ax] - size, 0)
            pads.append((total // 2, total - total // 2))
    else:
        pads = [(0, 0), (0, 0)]
    xp = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=np.nan)
    vs = [v for _, _, v in windows(xp, k, s, (1, 1))]
    stack = np.stack(vs)
    if kind == "max":
        return np.nanmax(stack, axis=0)
    return np.nanmean(stack, axis=0)  # TF divides by the input pixels under the window


def run(topo, weights, x):
    layers = topo["config"]["layers"]
    vals = {}
    for l in layers:
        cls, c, name = l["class_name"], l["config"], l["name"]
        if cls == "InputLayer":
            vals[name] = x
            continue
        srcs = [vals[r[0]] for r in l["inbound_nodes"][0]]
        src = srcs[0]
        W = lambda key: weights[name + "/" + key]
        if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
            k, s, d = pair(c["kernel_size"], 1), pair(c.get("strides"), 1), pair(c.get("dilation_rate"), 1)
            if c["padding"] == "same":
                src = same_pad(src, k, s, d)
            if cls == "Conv2D":
                y = conv(src, W("kernel"), s, d, c.get("groups", 1))
            elif cls == "DepthwiseConv2D":
                y = depthwise(src, W("depthwise_kernel"), s, d)
            else:
                y = depthwise(src, W("depthwise_kernel"), s, d)
                y = conv(y, W("pointwise_kernel"), (1, 1), (1, 1))
            if c.get("use_bias", True):
                y = y + W("bias")
            y = act(y, c.get("activation", "linear"))
        elif cls == "BatchNormalization":
            y = (src - W("moving_mean")) / np.sqrt(W("moving_variance") + c["epsilon"]) * W("gamma") + W("beta")
        elif cls == "Activation":
            y = act(src, c["activation"])
        elif cls == "ReLU":
            y = np.maximum(src, 0)
            if c.get("max_value") is not None:
                y = np.minimum(y, c["max_value"])
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            k = pair(c["pool_size"], 2)
            s = pair(c.get("strides"), 1) if c.get("strides") is not None else k
            y = pool(src, k, s, c["padding"], "max" if cls == "MaxPooling2D" else "avg")
        elif cls == "ZeroPadding2D":
            (t, b), (le, r) = c["padding"]
            y = np.pad(src, [(0, 0), (t, b), (le, r), (0, 0)])
        elif cls == "Add":
            y = sum(srcs)
        elif cls == "Concatenate":
            y = np.concatenate(srcs, axis=c.get("axis", -1))
        elif cls == "Flatten":
            y = src.reshape(src.shape[0], -1)
        elif cls == "Dense":
            y = src @ W("kernel")
            if c.get("use_bias", True):
                y = y + W("bias")
            y = act(y, c.get("activation", "linear"))
        elif cls == "GlobalAveragePooling2D":
            y = src.mean(axis=(1, 2))
        elif cls == "Reshape":
            y = src.reshape((src.shape[0],) + tuple(c["target_shape"]))
        elif cls == "Dropout":
            y = src
        else:
            raise ValueError("layer class " + cls)
        vals[name] = y
    return vals


def main():
    model_json, input_npy, out_dir = sys.argv[1:4]
    topo, weights = load(model_json)
    x = np.load(input_npy).astype(np.float64).transpose(0, 2, 3, 1)  # NCHW -> NHWC
    vals = run(topo, weights, x)
    for name in sys.argv[4:]:
        y = vals[name]
        if y.ndim == 4:
            y = y.transpose(0, 3, 1, 2)  # NHWC -> NCHW
        np.save(os.path.join(out_dir, name + ".npy"), y.astype(np.float32))


if __name__ == "__main__":
    main()
