"""Arithmetic-coder throughput: nc.coding vs constriction's range coder on the same symbols.

Both coders get the same 2**20 symbols with per-position 256-way float32 distributions (softmax of
seeded Gaussian logits) and quantise those probabilities themselves (timed). Prints symbols/s for
each, their ratio, and the bits each spends over the ideal -sum log2 p.

    .venv/bin/python benchmarks/coder.py [--symbols N] [--chunk N] [--seed S]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from nc.coding import decode_with_cdfs, encode_with_probs, quantize_cdfs

PRECISION = 14


def make_chunk(rng: np.random.Generator, n: int, temperature: float = 2.0):
    """(probs float32 [n, 256], symbols int32 [n]) with symbols drawn from their distributions."""
    logits = rng.standard_normal((n, 256), dtype=np.float32) * temperature
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    cum = np.cumsum(probs.astype(np.float64), axis=1)
    u = rng.random((n, 1)) * cum[:, -1:]
    symbols = np.minimum((cum < u).sum(axis=1), 255).astype(np.int32)
    return probs, symbols


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1 << 20)
    parser.add_argument("--chunk", type=int, default=1 << 16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import constriction

    rng = np.random.default_rng(args.seed)
    warm_probs, warm_symbols = make_chunk(rng, 1000)
    encode_with_probs(warm_symbols, warm_probs, PRECISION)  # compile / load numba kernels

    family = constriction.stream.model.Categorical(perfect=False)
    range_encoder = constriction.stream.queue.RangeEncoder()
    ours_s = theirs_s = ideal = 0.0
    ours_bits = 0
    done = 0
    while done < args.symbols:
        n = min(args.chunk, args.symbols - done)
        probs, symbols = make_chunk(rng, n)
        ideal += -np.log2(probs[np.arange(n), symbols].astype(np.float64)).sum()
        t0 = time.perf_counter()
        bits, _, _ = encode_with_probs(symbols, probs, PRECISION)
        t1 = time.perf_counter()
        range_encoder.encode(symbols, family, probs)
        t2 = time.perf_counter()
        ours_s += t1 - t0
        theirs_s += t2 - t1
        ours_bits += bits.size
        if done == 0:  # correctness spot check (untimed)
            cdfs = quantize_cdfs(probs, PRECISION)
            assert (decode_with_cdfs(np.packbits(bits), bits.size, cdfs, PRECISION) == symbols).all()
        done += n
    theirs_bits = range_encoder.num_bits()
    ours_rate, theirs_rate = args.symbols / ours_s, args.symbols / theirs_s
    print(f"symbols: {args.symbols:,} (256-way softmax(N(0,1)*2) distributions, chunks of {args.chunk:,}), "
          f"precision {PRECISION}")
    print(f"ideal -sum log2 p: {ideal:,.0f} bits ({ideal / args.symbols:.4f} bits/symbol)")
    print(f"nc.coding   : {ours_rate / 1e6:8.3f} M symbols/s, {ours_bits:,} bits, "
          f"+{100 * (ours_bits / ideal - 1):.3f}% over ideal")
    print(f"constriction: {theirs_rate / 1e6:8.3f} M symbols/s, {theirs_bits:,} bits, "
          f"+{100 * (theirs_bits / ideal - 1):.3f}% over ideal")
    print(f"throughput ratio nc/constriction: {ours_rate / theirs_rate:.2f}x")


if __name__ == "__main__":
    main()
