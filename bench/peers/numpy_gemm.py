#!/usr/bin/env python3
"""Time float32 GEMM in numpy (OpenBLAS or whatever BLAS numpy links) for ventral's benchmark table.

Usage: numpy_gemm.py [--min-time SECONDS] MxNxK [MxNxK ...]
Prints one line per shape: PEER gemm <M>x<N>x<K> <GFLOP/s>, the median over repeated batches.
Thread count is numpy's default; set OPENBLAS_NUM_THREADS=1 for a single-thread figure.
"""
import argparse
import statistics
import sys
import time

import numpy as np


def parse_shape(s):
    parts = s.lower().split("x")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("shape must be MxNxK, got %r" % s)
    m, n, k = (int(p) for p in parts)
    if min(m, n, k) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive: %r" % s)
    return m, n, k


def median_gflops(m, n, k, min_time):
    rng = np.random.default_rng(m * 1000003 + n * 1009 + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm up
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        if time.perf_counter() - t0 >= min_time / 8 or reps >= 1 << 20:
            break
        reps *= 2
    rates = []
    start = time.perf_counter()
    while len(rates) < 5 or (time.perf_counter() - start < min_time and len(rates) < 25):
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        el = time.perf_counter() - t0
        rates.append(2.0 * m * n * k * reps / el / 1e9)
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per shape (default 0.5)")
    ap.add_argument("shapes", nargs="+", type=parse_shape, metavar="MxNxK")
    args = ap.parse_args()
    for m, n, k in args.shapes:
        print("PEER gemm %dx%dx%d %.2f" % (m, n, k, median_gflops(m, n, k, args.min_time)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
