"""M1 compression at the paper's shape on this machine: what M1 computes per kept byte, and how long M1
waits for the host coder.

Examples are 10,240 bytes of real English (the embedded corpus, 128 documents per sequence) trimmed to
512 M2 tokens, as at the paper scale. M1 is a CPU-sized model trained here for a few hundred steps (or a
given ``--m1-run``), so its compression ratio is a small model's. For each method and each mode the same
examples are coded side by side in one run:

* ``whole``: whole contexts (T = example length, or the window cap for Equal-Info windows), the shapes
  the encoder used before context ladders;
* ``ladder``: context ladders calibrated on the first examples (``nc.coding.engine``), M1 calls overlapping
  host coding (the compression jobs' setting);
* ``serial``: the same ladders, every M1 call on the main thread between coding steps.

Printed per row: M1 positions computed per kept byte (padding rows included; the ideal is 1), kept
bytes/s, the share of the coding wall time M1 was busy, and the share it waited (1 - busy: for the host
coder, or for inputs). The last lines compare the modes: positions whole/ladder, and the speed-up of
overlapping (serial wall / ladder wall).

    .venv/bin/python benchmarks/m1_pipeline.py [--examples 256] [--m1-size t0] [--threads 2] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from nc.coding import ContextPlan, encode_example_chunks, encode_examples, make_encoder
from nc.data.dataset import TokenDataset
from nc.data.examples import join_documents, split_examples
from nc.data.readers import iter_documents
from nc.methods import parse_method
from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm
from nc.train.run import load_probability_source

METHODS = [
    "AC[v=256]",
    "AC[v=65k]",
    "EqualInfoAC[b=16;v=256]",
    "EqualInfoAC[b=16;v=65k]",
    "EqualInfoAC[b=64;v=256]",
    "EqualInfoAC[b=16;v=256;reset=2]",
    "EqualInfoAC[b=16;v=256;reset=never]",
]
SEQ_LEN = 512
EXAMPLE_BYTES = 10_240


def paper_shaped_examples(count: int) -> list[bytes]:
    """``count`` examples of 10,240 bytes (full ones only) from 128-document sequences of English. The
    embedded corpus holds ~450 such examples; past them, the documents are drawn again in another seeded
    order (new sequences, new example boundaries), as a C4-sized split would supply more text."""
    documents = list(iter_documents(None, "train"))
    examples: list[bytes] = []
    for epoch in itertools.count():
        order = np.random.default_rng(epoch).permutation(len(documents)) if epoch else np.arange(len(documents))
        for sequence in join_documents((documents[i] for i in order), 128):
            examples += [e for e in split_examples(sequence, EXAMPLE_BYTES) if len(e) == EXAMPLE_BYTES]
            if len(examples) >= count:
                return examples[:count]
    raise AssertionError("unreachable")


def train_m1(size: str, steps: int, directory: Path) -> Path:
    """A byte-level M1 trained briefly on the embedded corpus's training text (rows of 1,024 bytes)."""
    text = np.frombuffer("\xff".join(iter_documents(None, "train")).encode(), np.uint8)
    rows = text[: len(text) // 1024 * 1024].reshape(-1, 1024)
    n = np.full(len(rows), 1024, np.int32)
    data = TokenDataset(rows, n, n.astype(np.int64), {"method": "Bytes", "vocab_size": 256, "seq_len": 1024})
    train_lm(
        data,
        None,
        model_size(size),
        TrainConfig(steps=steps, batch_size=8, warmup_steps=50, dtype="float32"),
        directory,
        progress=False,
    )
    return directory


def run(method, examples, source, mode: str, threads: int, length_step: int, chunk_examples: int) -> dict:
    """Code ``examples`` as a compression job does: read ``chunk_examples`` at a time, coded as one stream."""
    plan = ContextPlan.NONE if mode == "whole" else ContextPlan("auto", length_step=length_step)
    encoder = make_encoder(method, source, max_tokens=SEQ_LEN, plan=plan, threads=threads, overlap=mode != "serial")
    chunks = [examples[i : i + chunk_examples] for i in range(0, len(examples), chunk_examples)]
    start = time.perf_counter()
    coded = encode_example_chunks(chunks, method, source, max_tokens=SEQ_LEN, encoder=encoder)
    encoded = [e for chunk in coded for e in chunk]
    wall = time.perf_counter() - start
    kept = sum(e.num_bytes for e in encoded)
    stats = encoder.stats
    return {
        "positions": stats.positions / kept,
        "bytes_per_s": kept / wall,
        "wall": wall,
        "busy": stats.busy_s / max(stats.wall_s, 1e-9),
        "tokens": [e.tokens for e in encoded],
        "ladder": encoder.window_ladder() if method.kind == "EqualInfoAC" and method.m1_reset else encoder.rungs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--m1-size", default="t0")
    parser.add_argument("--m1-steps", type=int, default=400)
    parser.add_argument("--m1-run", type=Path, help="an M1 run directory to use instead of training one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--call-mb", type=float, default=64)
    parser.add_argument("--max-rows", type=int, default=16)
    parser.add_argument("--length-step", type=int, default=256)
    parser.add_argument(
        "--chunk-examples",
        type=int,
        default=128,
        help="examples read at a time (as at the paper scale: 8x the rows per call)",
    )
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument(
        "--modes", nargs="*", default=["ladder", "serial"], choices=["whole", "ladder", "serial"], help="see above"
    )
    parser.add_argument("--quick", action="store_true", help="128 examples, three methods")
    args = parser.parse_args()
    if args.quick:
        args.examples, args.methods = 128, METHODS[:1] + METHODS[2:3] + METHODS[5:6]
    examples = paper_shaped_examples(args.examples)
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.m1_run or train_m1(args.m1_size, args.m1_steps, Path(scratch) / "m1")
        source = load_probability_source(run_dir, call_memory_mb=args.call_mb, max_rows=args.max_rows)
        print(
            f"{len(examples)} examples of {EXAMPLE_BYTES} bytes, {SEQ_LEN} tokens kept; M1 {run_dir.name} "
            f"({source.model.size.name}); {args.call_mb} MB / at most {args.max_rows} rows per call; "
            f"{args.threads} coder threads"
        )
        print(
            f"{'method':40s} {'mode':7s} {'pos/kept B':>10s} {'kept B/s':>9s} {'M1 busy':>8s} {'M1 waits':>8s}  ladder"
        )
        worst_wait = worst_positions = 0.0
        for label in args.methods:
            method = parse_method(label)
            encode_examples(examples[:2], method, source, max_tokens=SEQ_LEN)  # compile outside the timing
            modes = args.modes
            results = {
                mode: run(method, examples, source, mode, args.threads, args.length_step, args.chunk_examples)
                for mode in modes
            }
            for mode, r in results.items():
                print(
                    f"{label:40s} {mode:7s} {r['positions']:10.2f} {r['bytes_per_s']:9.0f} {r['busy']:8.3f} "
                    f"{1 - r['busy']:8.3f}  {r['ladder']}"
                )
            if {"ladder", "serial"} <= set(results):
                ladder, serial = results["ladder"], results["serial"]
                same = sum(np.array_equal(a, b) for a, b in zip(ladder["tokens"], serial["tokens"]))
                line = f"{label}: overlap speed-up {serial['wall'] / ladder['wall']:.2f}x"
                if "whole" in results:
                    line += f", positions whole/ladder {results['whole']['positions'] / ladder['positions']:.2f}x"
                print(f"{line}; ladder and serial tokens identical in {same}/{len(examples)} examples")
            if "ladder" in results:
                worst_wait = max(worst_wait, 1 - results["ladder"]["busy"])
                worst_positions = max(worst_positions, results["ladder"]["positions"])
        print(f"worst M1 positions per kept byte (ladder mode): {worst_positions:.2f}")
        print(f"worst share of time M1 waits (ladder mode): {worst_wait:.3f}")


if __name__ == "__main__":
    main()
