"""Independent numpy reference of a quantized TFLite network for the TFLite import tests.

usage: tflite_reference.py DUMP_DIR INPUT_NPY OUT_DIR MODE TENSOR...

DUMP_DIR holds graph.json (tensors with shape, type and quantization; operators with their
builtin options, as the file stores them) and tN.npy, the raw stored values of every constant
tensor N (integers as the file holds them, before any dequantization, in the file's NHWC/OHWI
layout). Nothing here comes from ventral's importer: this script dequantizes the weights itself
(per tensor or per channel along quantized_dimension; int32 biases without their own scale in
units of input_scale * filter_scale), pads with TF's SAME rule, runs every operator in NHWC on
float64 with its own im2col, and applies the fused activation.

MODE "forced" is "quant" with every computed operator input taken from DUMP_DIR/gN.npy when that
file exists (ventral's own value of tensor N, [N C H W]): each operator is then checked on its
own, and OUT_DIR/tN_tie.npy marks the outputs whose x/s lies within 1e-3 of a rounding tie
(where float summation order may pick either level).

MODE "quant" simulates the integer graph's requantization: after every operator whose output
tensor is quantized (uint8/int8, one scale), x -> (clip(round_half_even(x/s) + z, lo, hi) - z) * s;
the input image too. MODE "float" only clips to each quantized range.

INPUT_NPY holds [N C H W] float32 images already preprocessed to the dequantized input range.
Each requested tensor (by index) is written to OUT_DIR/tN.npy as float32 in ventral's layout
([N C H W] for rank-4 tensors).
"""
import json
import os
import sys

import numpy as np

RANGES = {"UINT8": (0, 255), "INT8": (-128, 127), "INT16": (-32768, 32767)}


def dequant(t, raw):
    q = t.get("quant")
    if t["type"] in ("FLOAT32", "FLOAT16") or not q or not q["scale"]:
        return raw.astype(np.float64)
    s = np.array(q["scale"], np.float64)
    z = np.array(q["zero_point"] or [0] * len(s), np.float64)
    if len(s) == 1:
        return s[0] * (raw - z[0])
    shape = [1] * raw.ndim
    shape[q["dim"]] = len(s)
    return s.reshape(shape) * (raw - z.reshape(shape))


def ties(x, t):
    q = t.get("quant")
    if t["type"] not in RANGES or not q or len(q["scale"]) != 1:
        return np.zeros(x.shape, bool)
    s = float(np.float32(q["scale"][0]))
    f = x / s - np.floor(x / s)
    return np.abs(f - 0.5) < 1e-3


def requant(x, t, mode):
    q = t.get("quant")
    if t["type"] not in RANGES or not q or len(q["scale"]) != 1:
        return x
    s = float(np.float32(q["scale"][0]))
    z = float(q["zero_point"][0]) if q["zero_point"] else 0.0
    lo, hi = RANGES[t["type"]]
    if mode == "float":
        return np.clip(x, s * (lo - z), s * (hi - z))
    return (np.clip(np.round(x / s) + z, lo, hi) - z) * s


def fused(x, act):
    if act == "NONE":
        return x
    if act == "RELU":
        return np.maximum(x, 0)
    if act == "RELU6":
        return np.clip(x, 0, 6)
    if act == "RELU_N1_TO_1":
        return np.clip(x, -1, 1)
    if act == "TANH":
        return np.tanh(x)
    raise ValueError("activation " + act)


def same_pads(n, k, s, d):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_hw(x, o, kh, kw, value=0.0):
    if o["padding"] != "SAME":
        return x
    ph = same_pads(x.shape[1], kh, o["stride_h"], o.get("dilation_h", 1))
    pw = same_pads(x.shape[2], kw, o["stride_w"], o.get("dilation_w", 1))
    return np.pad(x, [(0, 0), ph, pw, (0, 0)], constant_values=value)


def im2col(x, kh, kw, sh, sw, dh=1, dw=1):
    """[N H W C] -> [N OH OW KH KW C] patches (VALID)."""
    n, h, w, c = x.shape
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    cols = np.empty((n, oh, ow, kh, kw, c), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = x[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw, :]
    return cols


def bias_of(g, op, consts, n):
    if len(op["inputs"]) < 3 or op["inputs"][2] < 0:
        return np.zeros(n)
    bt = g["tensors"][op["inputs"][2]]
    raw = consts[op["inputs"][2]]
    if bt["type"] == "INT32" and not (bt.get("quant") and bt["quant"]["scale"]):
        xs = g["tensors"][op["inputs"][0]]["quant"]["scale"][0]
        ws = np.array(g["tensors"][op["inputs"][1]]["quant"]["scale"], np.float64)
        return raw * xs * ws
    return dequant(bt, raw)


def run(g, consts, x, mode, forced=None, tie=None):
    vals = {}
    inp = g["tensors"][g["inputs"][0]]
    vals[g["inputs"][0]] = requant(x, inp, mode)

    def val(i):
        if forced is not None and i in forced:
            return forced[i]
        if i in vals:
            return vals[i]
        return dequant(g["tensors"][i], consts[i])

    for op in g["ops"]:
        o = op.get("options", {})
        name = op["op"]
        ins = op["inputs"]
        out_t = g["tensors"][op["outputs"][0]]
        act = o.get("activation", "NONE")
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x = val(ins[0])
            w = val(ins[1])
            kh, kw = w.shape[1], w.shape[2]
            xp = pad_hw(x, o, kh, kw)
            cols = im2col(xp, kh, kw, o["stride_h"], o["stride_w"], o.get("dilation_h", 1), o.get("dilation_w", 1))
            if name == "CONV_2D":
                # w [O KH KW I]
                y = np.tensordot(cols, w, axes=([3, 4, 5], [1, 2, 3]))
            else:
                # w [1 KH KW C*M]; output channel c*M + m reads input channel c
                m = w.shape[3] // x.shape[3]
                cols = np.repeat(cols, m, axis=5)
                y = np.einsum("nhwijc,ijc->nhwc", cols, w[0])
            y = y + bias_of(g, op, consts, y.shape[-1])
        elif name == "FULLY_CONNECTED":
            x = val(ins[0])
            w = val(ins[1])
            y = x.reshape(x.shape[0], -1) @ w.T + bias_of(g, op, consts, w.shape[0])
        elif name in ("ADD", "MUL"):
            a, b = val(ins[0]), val(ins[1])
            y = a + b if name == "ADD" else a * b
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            x = val(ins[0])
            kh, kw = o["filter_h"], o["filter_w"]
            if name == "MAX_POOL_2D":
                cols = im2col(pad_hw(x, o, kh, kw, -np.inf), kh, kw, o["stride_h"], o["stride_w"])
                y = cols.max(axis=(3, 4))
            else:
                cols = im2col(pad_hw(x, o, kh, kw), kh, kw, o["stride_h"], o["stride_w"])
                ones = im2col(pad_hw(np.ones_like(x[:1, :, :, :1]), o, kh, kw), kh, kw, o["stride_h"], o["stride_w"])
                y = cols.sum(axis=(3, 4)) / ones.sum(axis=(3, 4))
        elif name == "MEAN":
            x = val(ins[0])
            axes = tuple(int(a) for a in consts[ins[1]].reshape(-1))
            y = x.mean(axis=axes, keepdims=o.get("keep_dims", False))
        elif name in ("RESHAPE", "SQUEEZE"):
            x = val(ins[0])
            y = x.reshape([x.shape[0]] + list(out_t["shape"][1:]))
        elif name == "SOFTMAX":
            x = val(ins[0])
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            y = e / e.sum(axis=-1, keepdims=True)
        elif name == "CONCATENATION":
            y = np.concatenate([val(i) for i in ins], axis=o["axis"])
        elif name == "PAD":
            x = val(ins[0])
            p = consts[ins[1]].astype(int)
            y = np.pad(x, [tuple(r) for r in p])
        elif name in ("QUANTIZE", "DEQUANTIZE"):
            y = val(ins[0])
        elif name == "RELU":
            y = np.maximum(val(ins[0]), 0)
        elif name == "RELU6":
            y = np.clip(val(ins[0]), 0, 6)
        elif name == "LOGISTIC":
            y = 1 / (1 + np.exp(-val(ins[0])))
        elif name == "TANH":
            y = np.tanh(val(ins[0]))
        else:
            raise ValueError("operator " + name)
        y = fused(y, act)
        if tie is not None:
            tie[op["outputs"][0]] = ties(y, out_t)
        if name != "DEQUANTIZE":
            y = requant(y, out_t, "quant" if mode == "forced" else mode)
        vals[op["outputs"][0]] = y
    return vals


def main():
    dump, inp, out, mode = sys.argv[1:5]
    want = [int(a) for a in sys.argv[5:]]
    with open(os.path.join(dump, "graph.json")) as f:
        g = json.load(f)
    consts = {}
    for i, t in enumerate(g["tensors"]):
        p = os.path.join(dump, "t%d.npy" % i)
        if t["has_data"]:
            consts[i] = np.load(p).astype(np.float64)
    x = np.load(inp).astype(np.float64).transpose(0, 2, 3, 1)
    forced, tie = None, None
    if mode == "forced":
        forced, tie = {}, {}
        for i in range(len(g["tensors"])):
            p = os.path.join(dump, "g%d.npy" % i)
            if os.path.exists(p):
                v = np.load(p).astype(np.float64)
                forced[i] = v.transpose(0, 2, 3, 1) if v.ndim == 4 else v
    vals = run(g, consts, x, mode, forced, tie)
    for i in want:
        for v, suffix in ((vals[i], ""), (tie[i] if tie is not None else None, "_tie")):
            if v is None:
                continue
            if v.ndim == 4:
                v = v.transpose(0, 3, 1, 2)
            np.save(os.path.join(out, "t%d%s.npy" % (i, suffix)), np.ascontiguousarray(v, np.float32))


if __name__ == "__main__":
    main()
