#!/usr/bin/env python3
"""Time float32 GEMM in numpy (OpenBLAS or whatever BLAS numpy links) for ventral's benchmark table.

Usage: numpy_gemm.py [--min-time SECONDS] MxNxK [MxNxK ...]
Prints which BLAS numpy loaded (PEER blas-numpy/-lib/-core/-config/-threads lines: the OpenBLAS
library mapped into this process and, through ctypes, its openblas_get_corename, get_config and
get_num_threads), then one line per shape: PEER gemm <M>x<N>x<K> <GFLOP/s> <cpu GFLOP/s>, the
medians over repeated batches by wall time and by the process's CPU time (all its threads). Thread count is numpy's default; set OPENBLAS_NUM_THREADS=1 for a single-thread
figure.
"""
import argparse
import ctypes
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


def blas_info():
    """The OpenBLAS library numpy loaded (from /proc/self/maps) and what it says about itself."""
    print("PEER blas-numpy %s" % np.__version__)
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "openblas" in path.lower() and ".so" in path and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    libs.sort(key=lambda p: "libopenblas" not in p)  # the library itself before its aliases
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            core, config, threads = lib.openblas_get_corename, lib.openblas_get_config, lib.openblas_get_num_threads
        except (OSError, AttributeError):
            continue
        core.restype = ctypes.c_char_p
        config.restype = ctypes.c_char_p
        print("PEER blas-lib %s" % path)
        print("PEER blas-core %s" % core().decode())
        print("PEER blas-config %s" % config().decode())
        print("PEER blas-threads %d" % threads())
        break
    sys.stdout.flush()


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
    rates, cpu_rates = [], []
    start = time.perf_counter()
    while len(rates) < 5 or (time.perf_counter() - start < min_time and len(rates) < 25):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        el, cpu = time.perf_counter() - t0, time.process_time() - c0
        rates.append(2.0 * m * n * k * reps / el / 1e9)
        if cpu > 0:
            cpu_rates.append(2.0 * m * n * k * reps / cpu / 1e9)
    return statistics.median(rates), (statistics.median(cpu_rates) if cpu_rates else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per shape (default 0.5)")
    ap.add_argument("shapes", nargs="+", type=parse_shape, metavar="MxNxK")
    args = ap.parse_args()
    blas_info()
    for m, n, k in args.shapes:
        print("PEER gemm %dx%dx%d %.2f %.2f" % ((m, n, k) + median_gflops(m, n, k, args.min_time)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
