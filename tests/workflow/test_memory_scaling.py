"""The data plane's memory is bounded by a job's shard: benchmarks/memory_scaling.py at two small sizes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def test_no_data_job_grows_with_the_corpus():
    """A 10x larger corpus (with 10x more files, parts and shards) leaves every job's peak memory alone.

    A job holding a split, a part or every shard's assignments would add the corpus (tens of MB) to a
    peak of ~40-200 MB; the shards' own sizes are the same at both sizes.
    """
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "memory_scaling.py"),
        "--sizes-mb",
        "6",
        "60",
        "--methods",
        "Bytes",
        "StaticAC[v=256]",
        "GZip[v=256]",
        "--examples",
        "32",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    rules = {line.split()[0] for line in out.splitlines() if re.match(r"^[a-z_]+\s+\d+\s+\d+\s", line)}
    assert {
        "corpus_part",
        "split_shard",
        "split_manifest",
        "byte_unigram",
        "compress_shard",
        "method_manifests",
    } <= rules, out
    worst = float(re.search(r"^worst peak RSS ratio: ([\d.]+|inf)$", out, re.M).group(1))
    assert worst <= 1.1, out
