"""Streaming readers for corpora in C4's distribution format.

C4 (``en`` 3.1.0) is distributed as gzipped JSON-lines shards named
``c4-train.NNNNN-of-MMMMM.json.gz`` and ``c4-validation.NNNNN-of-MMMMM.json.gz``; every line is an object
with a ``text`` field (plus ``url`` and ``timestamp``). ``iter_documents`` streams the texts of one split
without loading a shard into memory. The embedded default corpus (``EMBEDDED_CORPUS``: Shakespeare's
plays, one document per scene, see ``corpus/README.md``) uses the same format, so every reader works on both.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

EMBEDDED_CORPUS = Path(__file__).parent / "corpus"
# C4 calls its splits "train" and "validation".
C4_SPLITS = ("train", "validation")
_SHARD_RE = re.compile(r"^c4-(?P<split>[a-z]+)\.(?P<index>\d+)-of-(?P<count>\d+)\.json\.gz$")


def resolve_corpus(path: str | Path | None) -> Path:
    """The corpus directory: ``path``, or the embedded corpus when ``path`` is None / "embedded"."""
    if path is None or str(path) == "embedded":
        return EMBEDDED_CORPUS
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus path {str(path)!r} is not a directory")
    return root


def shard_paths(root: str | Path | None, split: str) -> list[Path]:
    """The json.gz shards of ``split`` ("train" or "validation") under ``root``, in shard order.

    Raises ValueError on an unknown split and FileNotFoundError when no shard exists or shards are missing.
    """
    if split not in C4_SPLITS:
        raise ValueError(f"unknown C4 split {split!r}; expected one of {C4_SPLITS}")
    directory = resolve_corpus(root)
    shards = []
    for path in directory.iterdir():
        m = _SHARD_RE.match(path.name)
        if m and m.group("split") == split:
            shards.append((int(m.group("index")), int(m.group("count")), path))
    if not shards:
        raise FileNotFoundError(f"no c4-{split}.*-of-*.json.gz shards in {directory}")
    shards.sort()
    counts = {count for _, count, _ in shards}
    if len(counts) != 1:
        raise ValueError(f"{directory}: c4-{split} shards disagree on the shard count: {sorted(counts)}")
    return [path for _, _, path in shards]


def iter_documents(root: str | Path | None, split: str, max_documents: int | None = None) -> Iterator[str]:
    """Stream document texts of one split, shard by shard, line by line (at most ``max_documents``).

    Raises ValueError naming the file and line of a record that is not JSON or lacks a string ``text``.
    """
    produced = 0
    for path in shard_paths(root, split):
        for text in file_documents(path):
            if max_documents is not None and produced >= max_documents:
                return
            yield text
            produced += 1


def file_documents(path: str | Path, max_documents: int | None = None) -> Iterator[str]:
    """The document texts of one json.gz file, in order (at most ``max_documents``).

    Raises ValueError naming the file (and line) when it is not gzip, not UTF-8 or a record is bad.
    """
    path = Path(path)
    produced = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if max_documents is not None and produced >= max_documents:
                    return
                if not line.strip():
                    continue
                yield _document_text(line, path, number)
                produced += 1
    except (OSError, EOFError, UnicodeDecodeError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable gzip file of UTF-8 JSON lines ({error})") from None


def _document_text(line: str, path: Path, number: int) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from None
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str):
        raise ValueError(f"{path}:{number}: record has no string 'text' field")
    return text
