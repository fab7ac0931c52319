"""Reference range coding of explicit integer CDFs with tensorflow-compression (TFC).

Runs inside the `.venv-tfc` virtualenv (scripts/make_tfc_venv.sh), never in the main environment:
TFC 2.14 needs tensorflow 2.14 and numpy<2. It imports nothing from `nc`.

Input (written by the main environment with `np.save`):
  --symbols  int [N]         the symbol at each position
  --cdfs     int32 [N, A+1]  the quantised CDF of each position: cdfs[i, 0] = 0, cdfs[i, A] = 2**precision,
                             non-decreasing, and cdfs[i, s + 1] > cdfs[i, s] for the coded symbol s

Output (in --out-dir, each file written atomically):
  decoded_<api>.npy   int32 [N]  the symbols decoded back from TFC's code stream
  encoded_<api>.bin             TFC's code stream
  result.json                   {"precision", "num_symbols", "alphabet_size", "ideal_bits",
                                 "coders": {<api>: {"encoded_bytes", "encoded_bits", "round_trip",
                                 "decoder_finalize_ok" (null for legacy), "seconds"}}}

Two TFC APIs code the same CDFs (both are TFC's range coder, Section 3.3 of the paper):
  index   create_range_encoder / entropy_encode_index: one lookup row [precision, cdf...] per position,
          position i coded with table i (the current TFC API);
  legacy  range_encode / range_decode: data [N] with per-position cdf [N, A+1] (the older op).

Usage:
  .venv-tfc/bin/python scripts/tfc_reference.py --symbols s.npy --cdfs c.npy --out-dir DIR [--precision 14]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's start-up chatter would bury the summary line

import numpy as np

APIS = ("index", "legacy")


@contextlib.contextmanager
def _atomic_file(path: Path):
    """Yield a binary handle on a temporary sibling of `path`; rename it onto `path` on success.

    The same contract as `nc.io.atomic_path`, which this environment cannot import (numpy<2 here).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def validate_inputs(symbols: np.ndarray, cdfs: np.ndarray, precision: int) -> None:
    """Raise ValueError naming the first violated requirement of the input contract."""
    if not 1 <= precision <= 16:
        raise ValueError(f"--precision must be in [1, 16] (TFC's limit), got {precision}")
    if symbols.ndim != 1:
        raise ValueError(f"--symbols must be 1-D, got shape {symbols.shape}")
    if not np.issubdtype(symbols.dtype, np.integer):
        raise ValueError(f"--symbols must hold integers, got dtype {symbols.dtype}")
    if cdfs.ndim != 2 or cdfs.shape[0] != symbols.shape[0] or cdfs.shape[1] < 2:
        raise ValueError(f"--cdfs must have shape [N={symbols.shape[0]}, A+1>=2], got {cdfs.shape}")
    if not np.issubdtype(cdfs.dtype, np.integer):
        raise ValueError(f"--cdfs must hold integers, got dtype {cdfs.dtype}")
    alphabet_size = cdfs.shape[1] - 1
    if symbols.size and (symbols.min() < 0 or symbols.max() >= alphabet_size):
        raise ValueError(f"--symbols must lie in [0, {alphabet_size}), got [{symbols.min()}, {symbols.max()}]")
    if np.any(cdfs[:, 0] != 0):
        raise ValueError(f"--cdfs rows must start at 0; first bad row {int(np.argmax(cdfs[:, 0] != 0))}")
    if np.any(cdfs[:, -1] != 1 << precision):
        bad = int(np.argmax(cdfs[:, -1] != 1 << precision))
        raise ValueError(f"--cdfs rows must end at 2**precision={1 << precision}; row {bad} ends at {cdfs[bad, -1]}")
    if np.any(np.diff(cdfs, axis=1) < 0):
        bad = int(np.argmax(np.any(np.diff(cdfs, axis=1) < 0, axis=1)))
        raise ValueError(f"--cdfs rows must be non-decreasing; first bad row {bad}")
    rows = np.arange(symbols.shape[0])
    widths = cdfs[rows, symbols + 1] - cdfs[rows, symbols]
    if np.any(widths <= 0):
        raise ValueError(f"--symbols position {int(np.argmax(widths <= 0))} has zero probability under its CDF")


def ideal_bits(symbols: np.ndarray, cdfs: np.ndarray, precision: int) -> float:
    """-sum log2 q(symbol) under the quantised distributions q = diff(cdf) / 2**precision."""
    rows = np.arange(symbols.shape[0])
    widths = (cdfs[rows, symbols + 1] - cdfs[rows, symbols]).astype(np.float64)
    return float(np.sum(precision - np.log2(widths)))


def code_with_index_api(symbols: np.ndarray, cdfs: np.ndarray, precision: int) -> tuple[bytes, np.ndarray, bool]:
    """Encode then decode with `create_range_encoder` + `entropy_encode_index`, table i for position i."""
    import tensorflow as tf
    from tensorflow_compression.python.ops import gen_ops

    count = symbols.shape[0]
    lookup = np.concatenate([np.full((count, 1), precision, np.int32), cdfs.astype(np.int32)], axis=1)
    lookup = tf.constant(lookup)
    index = tf.range(count, dtype=tf.int32)
    handle = gen_ops.create_range_encoder(shape=[], lookup=lookup)
    handle = gen_ops.entropy_encode_index(handle, index, tf.constant(symbols.astype(np.int32)))
    encoded = gen_ops.entropy_encode_finalize(handle)
    decoder = gen_ops.create_range_decoder(encoded, lookup)
    decoder, decoded = gen_ops.entropy_decode_index(decoder, index, shape=[count], Tdecoded=tf.int32)
    finalize_ok = bool(gen_ops.entropy_decode_finalize(decoder).numpy())
    return encoded.numpy(), decoded.numpy().astype(np.int32), finalize_ok


def code_with_legacy_api(symbols: np.ndarray, cdfs: np.ndarray, precision: int) -> tuple[bytes, np.ndarray, None]:
    """Encode then decode with the older `range_encode` / `range_decode` ops (per-position cdf [N, A+1])."""
    import tensorflow as tf
    from tensorflow_compression.python.ops import gen_ops

    if cdfs.shape[1] - 1 > np.iinfo(np.int16).max + 1:
        raise ValueError(f"legacy range_encode takes int16 symbols: alphabet {cdfs.shape[1] - 1} is too large")
    cdf = tf.constant(cdfs.astype(np.int32))
    encoded = gen_ops.range_encode(tf.constant(symbols.astype(np.int16)), cdf, precision=precision)
    decoded = gen_ops.range_decode(encoded, tf.constant([symbols.shape[0]], tf.int32), cdf, precision=precision)
    return encoded.numpy(), decoded.numpy().astype(np.int32), None  # the legacy op has no finalize check


CODERS = {"index": code_with_index_api, "legacy": code_with_legacy_api}


def run(symbols_path: Path, cdfs_path: Path, out_dir: Path, precision: int, apis: list[str]) -> dict:
    """Code the inputs with each requested TFC API, write the outputs, and return the result summary."""
    symbols = np.load(symbols_path)
    cdfs = np.load(cdfs_path)
    validate_inputs(symbols, cdfs, precision)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "precision": precision,
        "num_symbols": int(symbols.shape[0]),
        "alphabet_size": int(cdfs.shape[1] - 1),
        "ideal_bits": ideal_bits(symbols, cdfs, precision),
        "coders": {},
    }
    for api in apis:
        start = time.perf_counter()
        encoded, decoded, finalize_ok = CODERS[api](symbols, cdfs, precision)
        seconds = time.perf_counter() - start
        with _atomic_file(out_dir / f"encoded_{api}.bin") as handle:
            handle.write(encoded)
        with _atomic_file(out_dir / f"decoded_{api}.npy") as handle:
            np.save(handle, decoded)
        result["coders"][api] = {
            "encoded_bytes": len(encoded),
            "encoded_bits": 8 * len(encoded),
            "round_trip": bool(np.array_equal(decoded, symbols)),
            "decoder_finalize_ok": finalize_ok,
            "seconds": round(seconds, 3),
        }
    with _atomic_file(out_dir / "result.json") as handle:
        handle.write((json.dumps(result, indent=2) + "\n").encode())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--symbols", type=Path, required=True, help="int [N] symbols (.npy)")
    parser.add_argument("--cdfs", type=Path, required=True, help="int32 [N, A+1] quantised CDFs (.npy)")
    parser.add_argument("--out-dir", type=Path, required=True, help="directory for result.json and decoded_*.npy")
    parser.add_argument("--precision", type=int, default=14, help="CDF precision in bits (paper: 14)")
    parser.add_argument("--api", choices=[*APIS, "both"], default="both", help="which TFC range-coding API")
    args = parser.parse_args(argv)
    apis = list(APIS) if args.api == "both" else [args.api]
    try:
        result = run(args.symbols, args.cdfs, args.out_dir, args.precision, apis)
    except (ValueError, OSError) as error:
        print(f"tfc_reference: {error}", file=sys.stderr)
        return 2
    for api, coder in result["coders"].items():
        print(
            f"tfc_reference[{api}]: {result['num_symbols']} symbols -> {coder['encoded_bits']} bits "
            f"(ideal {result['ideal_bits']:.0f}), round trip {'ok' if coder['round_trip'] else 'FAILED'}"
        )
    return 0 if all(c["round_trip"] for c in result["coders"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
