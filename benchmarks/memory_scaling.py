"""Peak memory of every data and compression job at two corpus sizes >= 10x apart, through Snakemake.

Builds a C4-format corpus (``c4-{train,validation}.NNNNN-of-MMMMM.json.gz``, one JSON object per line with a
``text`` field) of real English: documents are passages of the embedded corpus's plays at random offsets,
with log-normal lengths of mean ~2,170 bytes (C4's). Then runs the paper scale's data and compression
rules on it (``--config scale=paper``: 10,240-byte examples, 128 documents per sequence) with the corpus,
the shard counts and tiny CPU models swapped in by a config file:

* json.gz files of a quarter of the smaller corpus, corpus parts of two files and split shards as many
  as parts, so a file, a part or a split shard holds the same amount of text at both sizes while their
  number grows with the corpus;
* M1 is the CPU size t0 (a few steps), SentencePiece learns a small vocabulary from a fixed number of
  sentences, and compression codes a fixed number of m2_train and valid examples (the jobs' memory
  must not depend on the corpus, which is what is measured).

Every job logs its exact peak resident memory (``peak_rss_mb=``, Linux's ``VmHWM``), and Snakemake's
``benchmark:`` file samples it too. Printed: per rule, the jobs, the largest peak at each size, their ratio
and wall time; the last line is ``worst peak RSS ratio: X`` (goal X <= 1.1).

    .venv/bin/python benchmarks/memory_scaling.py            # 100 MB and 1 GB of text
    .venv/bin/python benchmarks/memory_scaling.py --quick    # 30 MB and 300 MB
    .venv/bin/python benchmarks/memory_scaling.py --sizes-mb 4 40 --methods Bytes "StaticAC[v=256]"
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from nc.data.readers import iter_documents
from nc.methods import parse_method

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
METHODS = ["Bytes", "SentencePiece", "GZip[v=256]", "StaticAC[v=256]", "AC[v=256]", "EqualInfoAC[b=16;v=256]"]
SEQ2SEQ_METHOD = "EqualInfoAC[b=16;v=256]"


def write_corpus(directory: Path, total_mb: float, file_mb: float, seed: int = 0) -> dict[str, int]:
    """A C4-format corpus of ``total_mb`` MB of train text in files of ``file_mb`` MB, and 1/8 as much
    validation text in files twice as large (C4: 1,024 train and 8 validation files)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(iter_documents(None, "train"))
    rng = np.random.default_rng(seed)
    files = {}
    train_files = max(1, round(total_mb / file_mb))
    for split, mb, count in (("train", total_mb, train_files), ("validation", total_mb / 8, max(1, train_files // 4))):
        per_file = mb * 2**20 / count
        for index in range(count):
            path = directory / f"c4-{split}.{index:05d}-of-{count:05d}.json.gz"
            with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
                written = 0
                while written < per_file:
                    # Log-normal lengths, mean exp(7.3 + 0.8^2 / 2) ~ 2,070 characters, as C4's documents.
                    length = int(min(rng.lognormal(7.3, 0.8), len(text) - 1))
                    start = int(rng.integers(0, len(text) - length))
                    doc = text[start : start + length]
                    out.write(
                        json.dumps(
                            {
                                "text": doc,
                                "url": f"https://example.org/{split}/{index}/{written}",
                                "timestamp": "2019-04-25T12:57:54Z",
                            }
                        )
                        + "\n"
                    )
                    written += len(doc.encode("utf-8"))
        files[split] = count
    return files


def bench_config(corpus: Path, results: Path, files: dict[str, int], examples: int) -> dict:
    """Overrides of the paper scale: this corpus, shard counts that keep shards equal, tiny CPU models."""
    parts = {"train": max(1, files["train"] // 2), "validation": max(1, files["validation"] // 2)}
    return {
        "scale": "paper",
        "results": str(results),
        "data": {
            "corpus": str(corpus),
            "parts": parts,
            "splits": {
                "m1_train": {"examples": None, "seed": 0, "shards": parts["train"]},
                "m2_train": {"examples": examples, "seed": 1, "shards": parts["train"]},
                "valid": {"examples": examples // 2, "seed": 2, "shards": parts["validation"]},
            },
        },
        "m1": {"size": "t0", "batch_size": 4, "steps": 20, "warmup_steps": 5, "eval_batches": 1},
        "sentencepiece": {"vocab_size": 2000, "max_sentences": 4000, "model_file": None},  # trained, and measured
        "coding": {
            "m1_call_mb": 64,
            "m1_max_rows": 64,
            "decode_check_examples": 1,
            "chunk_examples": 256,
            "batch_size": 16,
        },
        "compress": {"shards": {"m2_train": 2, "valid": 1}},
        "seq2seq": {"train_examples": 64, "valid_examples": 32, "shards": {"m2_train": 1, "valid": 1}},
        # M1 trains on this machine's CPU: a job that asks for GPUs fails at once where JAX sees none.
        "resources": {"train_m1": {"gpus": 0}},
    }


def targets(results: Path, methods: list[str]) -> list[str]:
    out = [str(results / "data" / "byte_unigram.json")]
    for label in methods:
        out.append(str(results / "compression" / parse_method(label).slug / "stats.json"))
    if SEQ2SEQ_METHOD in methods:
        slug = parse_method(SEQ2SEQ_METHOD).slug
        out += [
            str(results / "compression" / slug / "seq2seq-compress" / split / "manifest.json")
            for split in ("m2_train", "valid")
        ]
    return out


LOG_RULES = [  # (pattern of a job's log path under logs/, rule)
    (r"^data/parts/", "corpus_part"),
    (r"^data/byte_unigram\.log$", "byte_unigram"),
    (r"^data/[a-z0-9_]+/manifest\.log$", "split_manifest"),
    (r"^data/[a-z0-9_]+/\d+-of-\d+\.log$", "split_shard"),
    (r"^train_m1\.log$", "train_m1"),
    (r"^train_sentencepiece\.log$", "train_sentencepiece"),
    (r"^compress/", "compress_shard"),
    (r"^manifests/", "method_manifests"),
    (r"^seq2seq/.*/manifests\.log$", "seq2seq_manifests"),
    (r"^seq2seq/", "seq2seq_shard"),
]


def job_peaks(results: Path) -> dict[str, list[float]]:
    """Per rule, the peak RSS (MB) every job logged."""
    peaks: dict[str, list[float]] = defaultdict(list)
    for log in sorted((results / "logs").rglob("*.log")):
        relative = log.relative_to(results / "logs").as_posix()
        rule = next((r for pattern, r in LOG_RULES if re.search(pattern, relative)), None)
        found = re.findall(r"peak_rss_mb=([\d.]+)", log.read_text(errors="replace"))
        if rule and found:
            peaks[rule].append(float(found[-1]))
    return peaks


def sampled_peaks(results: Path) -> dict[str, tuple[float, float]]:
    """Per rule, Snakemake's benchmark files: (largest sampled max_rss MB, summed wall seconds)."""
    out = {}
    for directory in (results / "benchmarks").iterdir():
        files = [directory] if directory.is_file() else sorted(directory.rglob("*.tsv"))
        rss, seconds = 0.0, 0.0
        for path in files:
            with open(path) as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    rss = max(rss, float(row["max_rss"]) if row["max_rss"] not in ("NA", "") else 0.0)
                    seconds += float(row["s"])
        out[directory.stem if directory.is_file() else directory.name] = (rss, seconds)
    return out


def run_size(work: Path, total_mb: float, file_mb: float, methods: list[str], examples: int, cores: int) -> dict:
    corpus = work / "corpus"
    start = time.perf_counter()
    files = write_corpus(corpus, total_mb, file_mb)
    corpus_s = time.perf_counter() - start
    text_mb = sum(p.stat().st_size for p in corpus.glob("*.json.gz")) / 2**20
    results = work / "results" / "bench"
    config = work / "bench.yaml"
    config.write_text(yaml.safe_dump(bench_config(corpus, results, files, examples)))
    command = [
        str(SNAKEMAKE),
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        str(cores),
        "--configfile",
        str(config),
        "--nolock",
        "--quiet",
        "progress",
        "--",
        *targets(results, methods),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"snakemake failed at {total_mb} MB:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return {
        "files": files,
        "gz_mb": text_mb,
        "corpus_s": corpus_s,
        "workflow_s": time.perf_counter() - start,
        "peaks": job_peaks(results),
        "sampled": sampled_peaks(results),
        "m1_train_mb": json.loads((results / "data" / "m1_train" / "manifest.json").read_text())["bytes"] / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=float, nargs=2, default=(100, 1000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--quick", action="store_true", help="30 MB and 300 MB")
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--examples", type=int, default=64, help="m2_train examples compressed (valid: half)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the work directories under this path")
    args = parser.parse_args()
    sizes = (30.0, 300.0) if args.quick else tuple(args.sizes_mb)
    if sizes[1] < 10 * sizes[0]:
        raise SystemExit(f"the sizes must be >= 10x apart, got {sizes}")
    scratch = Path(tempfile.mkdtemp(prefix="nc-memory-scaling-"))
    try:
        runs = {}
        for mb in sizes:
            # The smaller corpus has four train files: file, part and shard sizes are the same at both sizes.
            runs[mb] = run_size(scratch / f"{mb:g}MB", mb, sizes[0] / 4, args.methods, args.examples, args.cores)
            r = runs[mb]
            print(
                f"{mb:g} MB: m1_train {r['m1_train_mb']:.0f} MB of examples, {r['files']['train']} + "
                f"{r['files']['validation']} json.gz files ({r['gz_mb']:.0f} MB gzipped, written in "
                f"{r['corpus_s']:.0f} s), workflow {r['workflow_s']:.0f} s",
                flush=True,
            )
        small, large = (runs[mb] for mb in sizes)
        print(f"\n{'rule':22s} {'jobs':>9s} {'peak RSS MB':>19s} {'ratio':>6s} {'sampled MB':>17s} {'job s':>13s}")
        worst = 0.0
        for rule in sorted(set(small["peaks"]) | set(large["peaks"])):
            a, b = small["peaks"].get(rule, []), large["peaks"].get(rule, [])
            if not a or not b:
                print(f"{rule:22s} missing at one size ({len(a)} / {len(b)} jobs)")
                worst = float("inf")
                continue
            ratio = max(b) / max(a)
            worst = max(worst, ratio)
            sa, sb = small["sampled"].get(rule, (0, 0)), large["sampled"].get(rule, (0, 0))
            print(
                f"{rule:22s} {len(a):4d} {len(b):4d} {max(a):9.1f} {max(b):9.1f} {ratio:6.3f} "
                f"{sa[0]:8.1f} {sb[0]:8.1f} {sa[1]:6.0f} {sb[1]:6.0f}"
            )
        print(f"worst peak RSS ratio: {worst:.3f}")
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
