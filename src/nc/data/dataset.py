"""On-disk token datasets: what compression writes and what M2 training and evaluation read.

A dataset is a directory holding

* ``tokens.npy``     [N, seq_len] unsigned ints (uint8 when vocab <= 256, uint16 when <= 65536,
                     int32 above), each row a training example padded with ``pad_id`` (0) after
                     ``num_tokens[i]`` real tokens;
* ``num_tokens.npy`` [N] int32, real (non-padding) tokens per example;
* ``num_bytes.npy``  [N] int64, raw text bytes the real tokens of each example cover
                     (what Table 12 and the compression ratio count);
* ``meta.json``      {"method": label, "vocab_size": int, "seq_len": int, ...free extra keys};
* ``loss_start.npy`` optional [N] int32: positions before it are context only (no loss), as in the
                     sequence-to-sequence tasks of Table 5 where only target tokens are scored;
* ``token_counts.npy`` optional [vocab_size] int64: how often each id occurs among the scored tokens
                     (written by ``TokenDatasetWriter``; the unigram baseline reads it instead of the tokens).

``compression_ratio`` = total bytes / total real tokens (the paper's token compression ratio, bytes/token).

Parallel compression jobs each write one such directory (a *shard*); a ``ShardedTokenDataset`` reads a
method's split through its manifest (``write_token_manifest``) in place, row by row, so no job ever joins
or holds a whole split. Every dataset type answers ``rows(indices)`` with a small in-memory
``TokenDataset``: training, evaluation and analysis read through it alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from nc.data.shards import MANIFEST_NAME, NpyReader, RowFile
from nc.io import atomic_path, read_json, write_json

PAD_ID = 0


def token_dtype(vocab_size: int) -> np.dtype:
    """Smallest unsigned dtype that holds ids < vocab_size."""
    if vocab_size <= 2**8:
        return np.dtype(np.uint8)
    if vocab_size <= 2**16:
        return np.dtype(np.uint16)
    return np.dtype(np.int32)


@dataclass
class TokenDataset:
    tokens: np.ndarray
    num_tokens: np.ndarray
    num_bytes: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    loss_start: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.tokens.ndim != 2:
            raise ValueError(f"tokens must be 2-D [examples, seq_len], got shape {self.tokens.shape}")
        n, seq_len = self.tokens.shape
        if self.num_tokens.shape != (n,) or self.num_bytes.shape != (n,):
            raise ValueError(
                f"num_tokens {self.num_tokens.shape} and num_bytes {self.num_bytes.shape} must both be ({n},)"
            )
        if n and (self.num_tokens.min() < 0 or self.num_tokens.max() > seq_len):
            raise ValueError(f"num_tokens must lie in [0, {seq_len}]")
        for key in ("method", "vocab_size", "seq_len"):
            if key not in self.meta:
                raise ValueError(f"meta.json lacks the required key {key!r}")
        if self.loss_start is not None and self.loss_start.shape != (n,):
            raise ValueError(f"loss_start {self.loss_start.shape} must be ({n},)")
        if int(self.meta["seq_len"]) != seq_len:
            raise ValueError(f"meta seq_len {self.meta['seq_len']} != tokens width {seq_len}")

    @property
    def vocab_size(self) -> int:
        return int(self.meta["vocab_size"])

    @property
    def seq_len(self) -> int:
        return int(self.tokens.shape[1])

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def total_tokens(self) -> int:
        return int(self.num_tokens.sum())

    @property
    def total_bytes(self) -> int:
        return int(self.num_bytes.sum())

    @property
    def compression_ratio(self) -> float:
        """Token compression ratio L_iT / L_oT: raw bytes per real token."""
        return self.total_bytes / max(self.total_tokens, 1)

    @property
    def token_counts(self) -> np.ndarray:
        """int64 [vocab_size]: occurrences of each id among the scored tokens."""
        return np.bincount(self.tokens[self.loss_mask()].astype(np.int64), minlength=self.vocab_size)

    def rows(self, indices: np.ndarray) -> TokenDataset:
        """Examples ``indices`` as a small in-memory TokenDataset (reads only those rows)."""
        indices = np.asarray(indices, dtype=np.int64)
        return TokenDataset(
            tokens=np.asarray(self.tokens[indices]),
            num_tokens=np.asarray(self.num_tokens[indices]),
            num_bytes=np.asarray(self.num_bytes[indices]),
            meta=self.meta,
            loss_start=None if self.loss_start is None else np.asarray(self.loss_start[indices]),
        )

    def loss_mask(self) -> np.ndarray:
        """[N, seq_len] bool: True on real tokens that are scored (at or after loss_start)."""
        positions = np.arange(self.seq_len)[None, :]
        mask = positions < self.num_tokens[:, None]
        if self.loss_start is not None:
            mask &= positions >= self.loss_start[:, None]
        return mask

    def save(self, path: str | Path) -> None:
        """Write atomically: the directory appears complete or not at all."""
        with TokenDatasetWriter(
            path,
            len(self),
            seq_len=self.seq_len,
            vocab_size=self.vocab_size,
            meta=self.meta,
            loss_start=self.loss_start is not None,
        ) as writer:
            writer.write(0, self)

    @classmethod
    def load(cls, path: str | Path, mmap: bool = False) -> TokenDataset:
        path = Path(path)
        missing = [n for n in ("tokens.npy", "num_tokens.npy", "num_bytes.npy", "meta.json") if not (path / n).exists()]
        if missing:
            raise FileNotFoundError(f"{path} is not a token dataset: missing {', '.join(missing)}")
        mode: Literal["r"] | None = "r" if mmap else None
        return cls(
            tokens=np.load(path / "tokens.npy", mmap_mode=mode),
            num_tokens=np.load(path / "num_tokens.npy"),
            num_bytes=np.load(path / "num_bytes.npy"),
            meta=read_json(path / "meta.json"),
            loss_start=np.load(path / "loss_start.npy") if (path / "loss_start.npy").exists() else None,
        )


class TokenRows(Protocol):
    """What training, evaluation and analysis read: any of the dataset types of this module."""

    meta: dict[str, Any]

    def __len__(self) -> int: ...

    @property
    def seq_len(self) -> int: ...

    @property
    def vocab_size(self) -> int: ...

    @property
    def compression_ratio(self) -> float: ...

    def rows(self, indices: np.ndarray) -> TokenDataset: ...


def row_chunks(ds: TokenRows, size: int = 65_536, stop: int | None = None) -> Iterator[TokenDataset]:
    """Rows ``0:stop`` of ``ds`` in consecutive in-memory pieces of at most ``size`` rows."""
    stop = len(ds) if stop is None else min(stop, len(ds))
    for start in range(0, stop, size):
        yield ds.rows(np.arange(start, min(start + size, stop)))


class TokenDatasetWriter:
    """Context manager writing a token dataset directory of ``num_rows`` rows, block by block in any order.

    Tokens go to disk as they arrive; per-row counts (16 bytes a row) and the scored-token histogram are
    kept in memory. Rows never written stay empty (no tokens, no bytes). ``meta`` may be extended until exit.
    """

    def __init__(
        self,
        path: str | Path,
        num_rows: int,
        *,
        seq_len: int,
        vocab_size: int,
        meta: dict[str, Any],
        loss_start: bool = False,
    ):
        self.path = Path(path)
        self.num_rows, self.seq_len, self.vocab_size = int(num_rows), int(seq_len), int(vocab_size)
        self.meta = {**meta, "vocab_size": self.vocab_size, "seq_len": self.seq_len, "has_loss_start": loss_start}
        self.num_tokens = np.zeros(self.num_rows, np.int32)
        self.num_bytes = np.zeros(self.num_rows, np.int64)
        self.loss_start = np.zeros(self.num_rows, np.int32) if loss_start else None
        self.token_counts = np.zeros(self.vocab_size, np.int64)

    def __enter__(self) -> TokenDatasetWriter:
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._tmp.mkdir(parents=True)
        self._tokens = RowFile(self._tmp / "tokens.npy", token_dtype(self.vocab_size), (self.num_rows, self.seq_len))
        return self

    def write(self, start: int, block: TokenDataset) -> None:
        """Rows ``start .. start + len(block)`` from an in-memory dataset of the same width and vocabulary."""
        if block.seq_len != self.seq_len or block.vocab_size != self.vocab_size:
            raise ValueError(
                f"block of seq_len {block.seq_len} / vocab {block.vocab_size} does not fit a dataset of "
                f"seq_len {self.seq_len} / vocab {self.vocab_size}"
            )
        if (block.loss_start is None) != (self.loss_start is None):
            raise ValueError("a block's loss_start must be given exactly when the dataset has one")
        stop = start + len(block)
        self._tokens.write(start, block.tokens)
        self.num_tokens[start:stop] = block.num_tokens
        self.num_bytes[start:stop] = block.num_bytes
        if self.loss_start is not None:
            assert block.loss_start is not None  # checked above
            self.loss_start[start:stop] = block.loss_start
        self.token_counts += block.token_counts

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        try:
            self._tokens.close()
            if exc_type is None:
                np.save(self._tmp / "num_tokens.npy", self.num_tokens)
                np.save(self._tmp / "num_bytes.npy", self.num_bytes)
                np.save(self._tmp / "token_counts.npy", self.token_counts)
                if self.loss_start is not None:
                    np.save(self._tmp / "loss_start.npy", self.loss_start)
                self.meta.update(
                    {
                        "examples": self.num_rows,
                        "tokens": int(self.num_tokens.sum()),
                        "bytes": int(self.num_bytes.sum()),
                    }
                )
                write_json(self._tmp / "meta.json", self.meta)
        finally:
            self._atomic.__exit__(exc_type, exc, tb)
        return False


# Keys of shard meta.json that a manifest sums instead of copying from the first shard.
SUMMED_META = (
    "side_info_bits",
    "decode_check_examples",
    "decode_check_exact",
    "truncated_rows",
    "m1_positions",
    "m1_kept_bytes",
    "windows",
    "rule_exceptions",
)
_SHARD_SPECIFIC = ("shard", "num_shards", "first_example", "examples", "tokens", "bytes")


def write_token_manifest(shard_dirs: Sequence[str | Path], manifest_path: str | Path) -> dict[str, Any]:
    """The manifest of a method's split made of token dataset shards (in order); returns it.

    Shards must agree on method, vocabulary and width; counters in ``SUMMED_META`` are summed.
    """
    manifest_path = Path(manifest_path)
    root = manifest_path.parent.resolve()
    metas = [read_json(Path(d) / "meta.json") for d in shard_dirs]
    if not metas:
        raise ValueError("no shards to list")
    head = metas[0]
    for directory, meta in zip(shard_dirs, metas):
        for key in ("method", "vocab_size", "seq_len"):
            if meta.get(key) != head.get(key):
                raise ValueError(f"{directory}: shard has {key}={meta.get(key)!r}, the first shard {head.get(key)!r}")
        if bool(meta.get("has_loss_start")) != bool(head.get("has_loss_start")):
            raise ValueError(f"{directory}: some shards have loss_start and some do not")
    manifest = {k: v for k, v in head.items() if k not in _SHARD_SPECIFIC}
    for key in SUMMED_META:
        if key in head:
            manifest[key] = int(sum(m.get(key, 0) for m in metas))
    manifest["shards"] = [
        {
            "path": os.path.relpath(Path(d).resolve(), root),
            "examples": m["examples"],
            "tokens": m["tokens"],
            "bytes": m["bytes"],
        }
        for d, m in zip(shard_dirs, metas)
    ]
    for key in ("examples", "tokens", "bytes"):
        manifest[key] = int(sum(m[key] for m in metas))
    write_json(manifest_path, manifest)
    return manifest


class _TokenShard:
    """One shard of a ShardedTokenDataset, read by ``pread``."""

    def __init__(self, path: Path):
        missing = [n for n in ("tokens.npy", "num_tokens.npy", "num_bytes.npy", "meta.json") if not (path / n).exists()]
        if missing:
            raise FileNotFoundError(f"{path} is not a token dataset: missing {', '.join(missing)}")
        self.path = path
        self.tokens = NpyReader(path / "tokens.npy")
        self.num_tokens = NpyReader(path / "num_tokens.npy")
        self.num_bytes = NpyReader(path / "num_bytes.npy")
        self.loss_start = NpyReader(path / "loss_start.npy") if (path / "loss_start.npy").exists() else None

    def token_counts(self, vocab_size: int) -> np.ndarray:
        if (self.path / "token_counts.npy").exists():
            return np.load(self.path / "token_counts.npy")
        return TokenDataset.load(self.path, mmap=True).token_counts


class ShardedTokenDataset:
    """A method's split read in place through its manifest: rows on demand, never the whole split."""

    def __init__(self, manifest_path: str | Path):
        self.manifest_path = Path(manifest_path)
        if not self.manifest_path.is_file():
            raise FileNotFoundError(f"token dataset manifest {self.manifest_path} does not exist")
        manifest = read_json(self.manifest_path)
        self.meta = {k: v for k, v in manifest.items() if k != "shards"}
        for key in ("method", "vocab_size", "seq_len"):
            if key not in self.meta:
                raise ValueError(f"{self.manifest_path} lacks the required key {key!r}")
        self._entries = manifest["shards"]
        self.starts = np.concatenate([[0], np.cumsum([e["examples"] for e in self._entries])]).astype(np.int64)
        self._shards: dict[int, _TokenShard] = {}

    def __len__(self) -> int:
        return int(self.starts[-1])

    @property
    def seq_len(self) -> int:
        return int(self.meta["seq_len"])

    @property
    def vocab_size(self) -> int:
        return int(self.meta["vocab_size"])

    @property
    def total_tokens(self) -> int:
        return int(self.meta["tokens"])

    @property
    def total_bytes(self) -> int:
        return int(self.meta["bytes"])

    @property
    def compression_ratio(self) -> float:
        return self.total_bytes / max(self.total_tokens, 1)

    @property
    def token_counts(self) -> np.ndarray:
        """Scored-token histogram: the sum of the shards' (no token is read when the shards recorded it)."""
        return sum(
            (self._shard(i).token_counts(self.vocab_size) for i in range(len(self._entries))),
            np.zeros(self.vocab_size, np.int64),
        )

    def _shard(self, index: int) -> _TokenShard:
        if index not in self._shards:
            self._shards[index] = _TokenShard(self.manifest_path.parent / self._entries[index]["path"])
        return self._shards[index]

    def rows(self, indices: np.ndarray) -> TokenDataset:
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"{self.manifest_path}: rows outside 0:{len(self)}")
        tokens = np.zeros((len(indices), self.seq_len), token_dtype(self.vocab_size))
        num_tokens = np.zeros(len(indices), np.int32)
        num_bytes = np.zeros(len(indices), np.int64)
        loss_start = np.zeros(len(indices), np.int32) if self.meta.get("has_loss_start") else None
        shard_of = np.searchsorted(self.starts, indices, side="right") - 1
        for s in np.unique(shard_of):
            sel = np.flatnonzero(shard_of == s)
            shard, local = self._shard(int(s)), indices[sel] - self.starts[s]
            tokens[sel] = shard.tokens.take(local)
            num_tokens[sel] = shard.num_tokens.take(local)
            num_bytes[sel] = shard.num_bytes.take(local)
            if loss_start is not None:
                assert shard.loss_start is not None, f"{self.manifest_path}: shard {int(s)} has no loss_start"
                loss_start[sel] = shard.loss_start.take(local)
        return TokenDataset(tokens, num_tokens, num_bytes, self.meta, loss_start)


def load_token_dataset(path: str | Path) -> TokenDataset | ShardedTokenDataset:
    """A method's split from a manifest (file, or a directory holding one) or a dataset directory (memory-mapped)."""
    path = Path(path)
    if path.is_dir() and (path / MANIFEST_NAME).is_file():
        path = path / MANIFEST_NAME
    if path.is_file():
        return ShardedTokenDataset(path)
    return TokenDataset.load(path, mmap=True)
