"""Sharded, memory-mappable files of raw byte examples: what the data rules write and every consumer reads.

An *example shard* is a directory holding

* ``data.npy``    uint8 [total bytes]: the examples concatenated;
* ``offsets.npy`` int64 [N + 1]: example i is ``data[offsets[i]:offsets[i + 1]]``;
* ``meta.json``   {"examples": N, "bytes": total, "sha256": of data's bytes, ...free extra keys}.

Both arrays are standard ``.npy`` files (``np.load(path, mmap_mode="r")`` maps them). ``ExampleShardWriter``
writes them while examples stream in: bytes go straight to disk behind a fixed-size header that is
rewritten with the final length at the end, so a writer holds only the example lengths in memory. The
directory appears complete or not at all (``nc.io.atomic_path``).

A *split* (``m1_train``, ``m2_train``, ``valid``) is an ordered list of shards named by a manifest JSON
(``SplitManifest``); ``ExampleSplit`` gives random access to its examples, and to the bytes of its examples
concatenated, by global index. Reads are ``os.pread`` calls of exactly the byte range asked for: a consumer's
memory holds its slice, never the file (pages touched through a memory map would count towards a job's
resident memory until it unmaps them).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nc.io import atomic_path, read_json, write_json

# Total length of the .npy preamble + header that streaming writers reserve (a multiple of 64, as numpy
# aligns its own headers); any shape of up to 2**63 elements per dimension fits.
NPY_HEADER_BYTES = 128
_NPY_MAGIC = b"\x93NUMPY\x01\x00"
MANIFEST_NAME = "manifest.json"
# Open shard files kept per ExampleSplit (a split may have hundreds of shards).
_OPEN_SHARDS = 32


# ------------------------------------------------------------------------------------- .npy streams
def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """A version 1.0 ``.npy`` preamble + header of exactly ``NPY_HEADER_BYTES`` bytes."""
    text = repr(
        {
            "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
            "fortran_order": False,
            "shape": tuple(int(s) for s in shape),
        }
    )
    room = NPY_HEADER_BYTES - len(_NPY_MAGIC) - 2
    if len(text) + 1 > room:
        raise ValueError(f"npy header for shape {shape} does not fit in {NPY_HEADER_BYTES} bytes")
    text = text + " " * (room - len(text) - 1) + "\n"
    return _NPY_MAGIC + room.to_bytes(2, "little") + text.encode("latin1")


def npy_data_offset(path: str | Path) -> tuple[int, np.dtype, tuple[int, ...]]:
    """(byte offset of the array data, dtype, shape) of a C-ordered ``.npy`` file, read from its header."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if fortran:
            raise ValueError(f"{path}: Fortran-ordered arrays are not supported")
        return f.tell(), dtype, tuple(shape)


class NpyAppender:
    """Append items of one dtype to a 1-D ``.npy`` file whose length is known only at the end.

    Also keeps the SHA-256 of the data bytes. ``close()`` rewrites the header with the final length.
    """

    def __init__(self, path: str | Path, dtype: np.dtype | type[np.generic]):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.count = 0
        self.sha256 = hashlib.sha256()
        self._file = open(self.path, "wb")
        self._file.write(npy_header(self.dtype, (0,)))

    def append(self, data: bytes | np.ndarray) -> None:
        raw = (
            data
            if isinstance(data, (bytes, bytearray, memoryview))
            else np.ascontiguousarray(data, self.dtype).tobytes()
        )
        if len(raw) % self.dtype.itemsize:
            raise ValueError(f"{len(raw)} bytes are not a whole number of {self.dtype} items")
        self._file.write(raw)
        self.sha256.update(raw)
        self.count += len(raw) // self.dtype.itemsize

    def close(self) -> None:
        self._file.seek(0)
        self._file.write(npy_header(self.dtype, (self.count,)))
        self._file.close()


class RowFile:
    """A 2-D ``.npy`` file of known shape written row block by row block, in any order (``pwrite``).

    Rows never written read as zeros. Used for token datasets, whose row count is known up front.
    """

    def __init__(self, path: str | Path, dtype: np.dtype, shape: tuple[int, int]):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.shape = (int(shape[0]), int(shape[1]))
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.pwrite(self._fd, npy_header(self.dtype, self.shape), 0)
        os.ftruncate(self._fd, NPY_HEADER_BYTES + self.shape[0] * self._row_bytes)

    def write(self, start: int, rows: np.ndarray) -> None:
        """Write rows ``start .. start + len(rows)``."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.ndim != 2 or rows.shape[1] != self.shape[1] or start < 0 or start + len(rows) > self.shape[0]:
            raise ValueError(f"rows {rows.shape} at {start} do not fit a {self.shape} array")
        if len(rows):
            os.pwrite(self._fd, rows.tobytes(), NPY_HEADER_BYTES + start * self._row_bytes)

    def close(self) -> None:
        os.close(self._fd)


def pread_exact(fd: int, size: int, offset: int, path: Path) -> bytes:
    """``size`` bytes at ``offset``; raises naming ``path`` when the file is shorter than its header says."""
    chunks, done = [], 0
    while done < size:
        chunk = os.pread(fd, size - done, offset + done)
        if not chunk:
            raise ValueError(f"{path} is truncated: wanted {size} bytes at offset {offset}, file ends after {done}")
        chunks.append(chunk)
        done += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class NpyReader:
    """Random access to a C-ordered ``.npy`` file by ``pread``: ``rows(start, stop)``, ``take(indices)``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} does not exist")
        self.data_offset, self.dtype, self.shape = npy_data_offset(self.path)
        self.row_items = int(np.prod(self.shape[1:], dtype=np.int64)) if len(self.shape) > 1 else 1
        self.row_bytes = self.row_items * self.dtype.itemsize
        expected = self.data_offset + self.shape[0] * self.row_bytes
        if os.path.getsize(self.path) < expected:
            raise ValueError(
                f"{self.path} is truncated: its header promises {expected} bytes, "
                f"the file has {os.path.getsize(self.path)}"
            )
        self._fd = os.open(self.path, os.O_RDONLY)

    def __len__(self) -> int:
        return int(self.shape[0])

    def raw(self, start: int, stop: int) -> bytes:
        """The bytes of rows ``start:stop``."""
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"{self.path}: rows {start}:{stop} outside 0:{len(self)}")
        return pread_exact(
            self._fd, (stop - start) * self.row_bytes, self.data_offset + start * self.row_bytes, self.path
        )

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a fresh array."""
        flat = np.frombuffer(self.raw(start, stop), dtype=self.dtype)
        return flat.reshape((int(stop) - int(start), *self.shape[1:])).copy()

    def take(self, indices: np.ndarray) -> np.ndarray:
        """Rows at ``indices`` (any order); contiguous runs are read with one ``pread`` each."""
        indices = np.asarray(indices, dtype=np.int64)
        out = np.empty((len(indices), *self.shape[1:]), dtype=self.dtype)
        if not len(indices):
            return out
        order = np.argsort(indices, kind="stable")
        sorted_idx = indices[order]
        breaks = np.flatnonzero(np.diff(sorted_idx) != 1) + 1
        for run in np.split(np.arange(len(sorted_idx)), breaks):
            first, last = sorted_idx[run[0]], sorted_idx[run[-1]]
            out[order[run]] = self.rows(first, last + 1)
        return out

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:  # file descriptors of dropped readers do not pile up
        self.close()


# ---------------------------------------------------------------------------------- example shards
class ExampleShardWriter:
    """Context manager writing one example shard directory atomically; ``add(example)`` streams bytes out.

    ``count_bytes=True`` also records the 256 byte counts of the shard (meta ``byte_counts``).
    ``meta`` holds extra keys for meta.json.
    """

    def __init__(self, path: str | Path, *, count_bytes: bool = False, meta: dict[str, Any] | None = None):
        self.path = Path(path)
        self.count_bytes = count_bytes
        self.meta = dict(meta or {})
        self.lengths: list[int] = []
        self.byte_counts = np.zeros(256, np.int64)

    def __enter__(self) -> ExampleShardWriter:
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._tmp.mkdir(parents=True)
        self._data = NpyAppender(self._tmp / "data.npy", np.uint8)
        return self

    def add(self, example: bytes) -> None:
        self._data.append(example)
        self.lengths.append(len(example))
        if self.count_bytes and example:
            self.byte_counts += np.bincount(np.frombuffer(example, np.uint8), minlength=256)

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        try:
            self._data.close()
            if exc_type is None:
                offsets = np.zeros(len(self.lengths) + 1, np.int64)
                np.cumsum(self.lengths, out=offsets[1:])
                np.save(self._tmp / "offsets.npy", offsets)
                meta = {
                    **self.meta,
                    "examples": len(self.lengths),
                    "bytes": int(offsets[-1]),
                    "sha256": self._data.sha256.hexdigest(),
                }
                if self.count_bytes:
                    meta["byte_counts"] = self.byte_counts.tolist()
                write_json(self._tmp / "meta.json", meta)
        finally:
            self._atomic.__exit__(exc_type, exc, tb)
        return False


class ExampleShard:
    """Read access to one example shard directory (``ExampleShardWriter``'s output)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        missing = [n for n in ("data.npy", "offsets.npy", "meta.json") if not (self.path / n).is_file()]
        if missing:
            raise FileNotFoundError(f"{self.path} is not an example shard: missing {', '.join(missing)}")
        self.meta = read_json(self.path / "meta.json")
        self._data = NpyReader(self.path / "data.npy")
        self._offsets = NpyReader(self.path / "offsets.npy")
        if len(self._offsets) != self.meta["examples"] + 1 or len(self._data) != self.meta["bytes"]:
            raise ValueError(
                f"{self.path}: meta.json says {self.meta['examples']} examples / {self.meta['bytes']} "
                f"bytes, the arrays hold {len(self._offsets) - 1} / {len(self._data)}"
            )

    def __len__(self) -> int:
        return int(self.meta["examples"])

    @property
    def num_bytes(self) -> int:
        return int(self.meta["bytes"])

    def offsets(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """int64 offsets of examples ``start .. stop`` (``stop - start + 1`` values)."""
        stop = len(self) if stop is None else stop
        return self._offsets.rows(start, stop + 1)

    def lengths(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        return np.diff(self.offsets(start, stop))

    def read(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Examples ``start:stop`` (one read of their bytes)."""
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return []
        offsets = self.offsets(start, stop)
        blob = self._data.raw(offsets[0], offsets[-1])
        rel = offsets - offsets[0]
        return [blob[rel[i] : rel[i + 1]] for i in range(stop - start)]

    def read_bytes(self, start: int, stop: int) -> bytes:
        """Bytes ``start:stop`` of the shard's concatenated examples."""
        return self._data.raw(start, stop)

    def take(self, indices: np.ndarray) -> list[bytes]:
        """Examples at sorted, distinct ``indices``; runs of consecutive examples are read together."""
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) and np.any(np.diff(indices) <= 0):
            raise ValueError("take() needs strictly increasing indices")
        out: list[bytes] = []
        breaks = np.flatnonzero(np.diff(indices) != 1) + 1
        for run in np.split(indices, breaks) if len(indices) else []:
            out.extend(self.read(int(run[0]), int(run[-1]) + 1))
        return out

    def close(self) -> None:
        self._data.close()
        self._offsets.close()

    def verify(self) -> None:
        """Recompute the data checksum; raises ValueError naming the shard on a mismatch."""
        digest = hashlib.sha256()
        step = 1 << 24
        for start in range(0, self.num_bytes, step):
            digest.update(self._data.raw(start, min(start + step, self.num_bytes)))
        if digest.hexdigest() != self.meta["sha256"]:
            raise ValueError(f"{self.path}: data.npy checksum {digest.hexdigest()} != meta.json {self.meta['sha256']}")


# -------------------------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class ShardEntry:
    """One shard of a split manifest: its directory relative to the manifest, examples, bytes, checksum."""

    path: str
    examples: int
    bytes: int
    sha256: str


def write_split_manifest(shard_dirs: Sequence[str | Path], manifest_path: str | Path, **extra: Any) -> dict[str, Any]:
    """Write the manifest of a split made of ``shard_dirs`` (in order); returns it.

    The manifest sums the shards' ``byte_counts`` when every shard has them.
    """
    manifest_path = Path(manifest_path)
    root = manifest_path.parent.resolve()
    entries, byte_counts = [], np.zeros(256, np.int64)
    counted = True
    for directory in map(Path, shard_dirs):
        shard = ExampleShard(directory)
        entries.append(
            {
                "path": os.path.relpath(directory.resolve(), root),
                "examples": len(shard),
                "bytes": shard.num_bytes,
                "sha256": shard.meta["sha256"],
            }
        )
        counted &= "byte_counts" in shard.meta
        if counted:
            byte_counts += np.asarray(shard.meta["byte_counts"], np.int64)
    manifest = {
        **extra,
        "examples": sum(e["examples"] for e in entries),
        "bytes": sum(e["bytes"] for e in entries),
        "shards": entries,
    }
    if counted and entries:
        manifest["byte_counts"] = byte_counts.tolist()
    write_json(manifest_path, manifest)
    return manifest


class ExampleSplit:
    """The examples of a split, by global index, read through its manifest's shards.

    ``read(start, stop)`` returns examples; ``read_bytes(start, stop)`` a range of the split's examples
    concatenated (M1's packed rows); ``chunks(start, stop, size)`` streams a range in pieces.
    """

    def __init__(self, manifest_path: str | Path):
        self.manifest_path = Path(manifest_path)
        if not self.manifest_path.is_file():
            raise FileNotFoundError(f"split manifest {self.manifest_path} does not exist")
        self.manifest = read_json(self.manifest_path)
        self.shards = [ShardEntry(**e) for e in self.manifest["shards"]]
        self.example_starts = np.concatenate([[0], np.cumsum([e.examples for e in self.shards])]).astype(np.int64)
        self.byte_starts = np.concatenate([[0], np.cumsum([e.bytes for e in self.shards])]).astype(np.int64)
        self._open: OrderedDict[int, ExampleShard] = OrderedDict()

    def __len__(self) -> int:
        return int(self.example_starts[-1])

    @property
    def num_bytes(self) -> int:
        return int(self.byte_starts[-1])

    @property
    def byte_counts(self) -> np.ndarray | None:
        counts = self.manifest.get("byte_counts")
        return None if counts is None else np.asarray(counts, np.int64)

    def shard(self, index: int) -> ExampleShard:
        if index in self._open:
            self._open.move_to_end(index)
            return self._open[index]
        shard = ExampleShard(self.manifest_path.parent / self.shards[index].path)
        self._open[index] = shard
        if len(self._open) > _OPEN_SHARDS:
            self._open.popitem(last=False)[1].close()
        return shard

    def read(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        stop = len(self) if stop is None else min(int(stop), len(self))
        out: list[bytes] = []
        while start < stop:
            s = int(np.searchsorted(self.example_starts, start, side="right")) - 1
            local_stop = min(stop, int(self.example_starts[s + 1]))
            out.extend(
                self.shard(s).read(start - int(self.example_starts[s]), local_stop - int(self.example_starts[s]))
            )
            start = local_stop
        return out

    def chunks(self, start: int = 0, stop: int | None = None, size: int = 256) -> Iterator[tuple[int, list[bytes]]]:
        """(first index, examples) pieces of at most ``size`` examples covering ``start:stop``."""
        stop = len(self) if stop is None else min(int(stop), len(self))
        for first in range(start, stop, size):
            yield first, self.read(first, min(first + size, stop))

    def examples(self, start: int = 0, stop: int | None = None, size: int = 256) -> Iterator[bytes]:
        """Examples ``start:stop`` one by one, read ``size`` at a time."""
        for _, part in self.chunks(start, stop, size):
            yield from part

    def read_bytes(self, start: int, stop: int) -> bytes:
        """Bytes ``start:stop`` of all examples concatenated in split order (clipped to the split)."""
        start, stop = max(0, int(start)), min(int(stop), self.num_bytes)
        parts = []
        while start < stop:
            s = int(np.searchsorted(self.byte_starts, start, side="right")) - 1
            local_stop = min(stop, int(self.byte_starts[s + 1]))
            base = int(self.byte_starts[s])
            parts.append(self.shard(s).read_bytes(start - base, local_stop - base))
            start = local_stop
        return b"".join(parts)
