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
                     sequence-to-sequence tasks of Table 5 where only target tokens are scored.

``compression_ratio`` = total bytes / total real tokens (the paper's token compression ratio, bytes/token).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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

    def loss_mask(self) -> np.ndarray:
        """[N, seq_len] bool: True on real tokens that are scored (at or after loss_start)."""
        positions = np.arange(self.seq_len)[None, :]
        mask = positions < self.num_tokens[:, None]
        if self.loss_start is not None:
            mask &= positions >= self.loss_start[:, None]
        return mask

    def save(self, path: str | Path) -> None:
        """Write atomically: the directory appears complete or not at all."""
        with atomic_path(path) as tmp:
            tmp.mkdir(parents=True)
            np.save(tmp / "tokens.npy", self.tokens)
            np.save(tmp / "num_tokens.npy", self.num_tokens.astype(np.int32))
            np.save(tmp / "num_bytes.npy", self.num_bytes.astype(np.int64))
            write_json(tmp / "meta.json", self.meta)
            if self.loss_start is not None:
                np.save(tmp / "loss_start.npy", self.loss_start.astype(np.int32))

    @classmethod
    def load(cls, path: str | Path, mmap: bool = False) -> "TokenDataset":
        path = Path(path)
        missing = [n for n in ("tokens.npy", "num_tokens.npy", "num_bytes.npy", "meta.json") if not (path / n).exists()]
        if missing:
            raise FileNotFoundError(f"{path} is not a token dataset: missing {', '.join(missing)}")
        mode = "r" if mmap else None
        return cls(
            tokens=np.load(path / "tokens.npy", mmap_mode=mode),
            num_tokens=np.load(path / "num_tokens.npy"),
            num_bytes=np.load(path / "num_bytes.npy"),
            meta=read_json(path / "meta.json"),
            loss_start=np.load(path / "loss_start.npy") if (path / "loss_start.npy").exists() else None,
        )

    @classmethod
    def concatenate(cls, parts: list["TokenDataset"]) -> "TokenDataset":
        """Join shards written by parallel jobs, in the given order."""
        if not parts:
            raise ValueError("no shards to concatenate")
        meta = dict(parts[0].meta)
        for p in parts[1:]:
            for key in ("method", "vocab_size", "seq_len"):
                if p.meta[key] != meta[key]:
                    raise ValueError(f"shards disagree on {key}: {p.meta[key]!r} != {meta[key]!r}")
        starts = [p.loss_start for p in parts]
        if any(s is None for s in starts) and not all(s is None for s in starts):
            raise ValueError("some shards have loss_start and some do not")
        return cls(
            loss_start=None if starts[0] is None else np.concatenate(starts),
            tokens=np.concatenate([p.tokens for p in parts]),
            num_tokens=np.concatenate([p.num_tokens for p in parts]),
            num_bytes=np.concatenate([p.num_bytes for p in parts]),
            meta=meta,
        )
