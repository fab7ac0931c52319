"""XLA CPU threads of one-CPU jobs: training tokens/s with XLA's default threading against one thread
per process (``nc.pipeline.runtime.limit_cpu_threads``), for one process alone and for ``--jobs``
processes side by side (as Snakemake runs one-CPU jobs on a laptop), measured in the same run.

Each process times ``--steps`` train steps of one size and vocabulary (``benchmarks/train.py``'s
``train_tokens_per_s``) after compiling; the side-by-side processes start together and their
tokens/s are added up.

Run: .venv/bin/python benchmarks/cpu_threads.py [--sizes t1 t4] [--vocabs 256 65536] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from nc.pipeline.runtime import SINGLE_THREAD_XLA_FLAGS

WORKER = """
import sys
sys.path.insert(0, {bench!r})
from train import train_tokens_per_s
print(train_tokens_per_s({size!r}, {batch}, {seq_len}, {vocab}, {steps}))
"""


def side_by_side(jobs: int, flags: str, size: str, vocab: int, args) -> list[float]:
    """tokens/s of each of ``jobs`` processes started together with ``XLA_FLAGS=flags``."""
    code = WORKER.format(
        bench=str(Path(__file__).parent),
        size=size,
        batch=args.batch,
        seq_len=args.seq_len,
        vocab=vocab,
        steps=args.steps,
    )
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(jobs)
    ]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError(f"a worker failed (XLA_FLAGS={flags!r})")
    return [float(out.strip().splitlines()[-1]) for out in outs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["t1", "t4"])
    parser.add_argument("--vocabs", nargs="+", type=int, default=[256, 65536])
    parser.add_argument("--jobs", type=int, default=2, help="processes side by side (default: 2)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    settings = {"default": "", "one thread": " ".join(SINGLE_THREAD_XLA_FLAGS)}
    print(f"os.cpu_count() = {os.cpu_count()}; batch {args.batch} x {args.seq_len} tokens, {args.steps} steps")
    print(f"{'size':5s} {'vocab':>6s} {'setting':11s} {'alone':>9s} {f'{args.jobs} side by side (total)':>26s}")
    for size in args.sizes:
        for vocab in args.vocabs:
            totals = {}
            for name, flags in settings.items():
                alone = side_by_side(1, flags, size, vocab, args)[0]
                together = side_by_side(args.jobs, flags, size, vocab, args)
                totals[name] = (alone, sum(together))
                print(f"{size:5s} {vocab:6d} {name:11s} {alone:9.0f} {sum(together):26.0f}", flush=True)
            (alone_d, both_d), (alone_1, both_1) = totals["default"], totals["one thread"]
            print(
                f"{size:5s} {vocab:6d} one thread / default: alone x{alone_1 / alone_d:.2f}, "
                f"side by side x{both_1 / both_d:.2f}"
            )


if __name__ == "__main__":
    main()
