"""Arithmetic-coder throughput: nc.coding vs constriction's range coder on the same symbols.

Both coders get the same 2**20 symbols with per-position 256-way float32 distributions (softmax of
seeded Gaussian logits) and quantise those probabilities themselves (timed). Each chunk is encoded
``--repeats`` times by each coder, alternating which goes first, so every repeat is a full
side-by-side measurement on identical data; prints symbols/s for each, their ratio (median and range
over repeats), the bits each spends over the ideal -sum log2 p, and the rate of ``quantize_cdfs``
(the [N, 257] CDF array the decoder-side API takes) for reference.

    .venv/bin/python benchmarks/coder.py [--symbols N] [--chunk N] [--repeats R] [--seed S]
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


def timed(fn, *args):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1 << 20)
    parser.add_argument("--chunk", type=int, default=1 << 16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for key in ("symbols", "chunk", "repeats"):
        if getattr(args, key) < 1:
            raise SystemExit(f"--{key} must be >= 1, got {getattr(args, key)}")
    import constriction

    rng = np.random.default_rng(args.seed)
    warm_probs, warm_symbols = make_chunk(rng, 1000)
    encode_with_probs(warm_symbols, warm_probs, PRECISION)  # compile / load numba kernels
    quantize_cdfs(warm_probs, PRECISION)

    family = constriction.stream.model.Categorical(perfect=False)
    range_encoders = [constriction.stream.queue.RangeEncoder() for _ in range(args.repeats)]
    ours_s = np.zeros(args.repeats)
    theirs_s = np.zeros(args.repeats)
    quantize_s = ideal = 0.0
    ours_bits = 0
    done = 0
    while done < args.symbols:
        n = min(args.chunk, args.symbols - done)
        probs, symbols = make_chunk(rng, n)
        ideal += -np.log2(probs[np.arange(n), symbols].astype(np.float64)).sum()
        for r in range(args.repeats):
            ours_first = (r + done // args.chunk) % 2 == 0
            if not ours_first:
                theirs_s[r] += timed(range_encoders[r].encode, symbols, family, probs)[0]
            seconds, (bits, _, _) = timed(encode_with_probs, symbols, probs, PRECISION)
            ours_s[r] += seconds
            if ours_first:
                theirs_s[r] += timed(range_encoders[r].encode, symbols, family, probs)[0]
        ours_bits += bits.size
        seconds, cdfs = timed(quantize_cdfs, probs, PRECISION)
        quantize_s += seconds
        if done == 0:  # correctness spot check (untimed)
            assert (decode_with_cdfs(np.packbits(bits), bits.size, cdfs, PRECISION) == symbols).all()
        done += n
    theirs_bits = range_encoders[0].num_bits()
    ours_rate, theirs_rate = args.symbols / ours_s, args.symbols / theirs_s
    ratio = ours_rate / theirs_rate
    print(
        f"symbols: {args.symbols:,} (256-way softmax(N(0,1)*2) distributions, chunks of {args.chunk:,}), "
        f"precision {PRECISION}, {args.repeats} repeats"
    )
    print(f"ideal -sum log2 p: {ideal:,.0f} bits ({ideal / args.symbols:.4f} bits/symbol)")
    print(
        f"nc.coding   : {np.median(ours_rate) / 1e6:8.3f} M symbols/s (range {ours_rate.min() / 1e6:.3f}-"
        f"{ours_rate.max() / 1e6:.3f}), {ours_bits:,} bits, +{100 * (ours_bits / ideal - 1):.3f}% over ideal"
    )
    print(
        f"constriction: {np.median(theirs_rate) / 1e6:8.3f} M symbols/s (range {theirs_rate.min() / 1e6:.3f}-"
        f"{theirs_rate.max() / 1e6:.3f}), {theirs_bits:,} bits, +{100 * (theirs_bits / ideal - 1):.3f}% over ideal"
    )
    print(f"quantize_cdfs (nc, [N, 257] CDF array): {args.symbols / quantize_s / 1e6:.3f} M rows/s")
    print(
        f"throughput ratio nc/constriction: {np.median(ratio):.2f}x median "
        f"(range {ratio.min():.2f}-{ratio.max():.2f}x over {args.repeats} repeats)"
    )


if __name__ == "__main__":
    main()
