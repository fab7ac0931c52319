"""The ``nc compress`` file format: self-describing, checked end to end (docs/CLI.md).

Layout (integers big-endian)::

    magic  b"NCZF"            4 bytes
    version                   1 byte (FORMAT_VERSION)
    header length             4 bytes, then the header: UTF-8 JSON (``ContainerHeader``)
    blocks                    per block: input bytes (4), bits (4), side-info length (4), then the
                              packed bits (ceil(bits / 8) bytes) and the side information
    CRC32 of all of the above 4 bytes

A block is one example of the coder (``Encoded``): ``bits`` are its token bits (bitstream methods) or
its token ids at the coder's token width (8 bits for Bytes, the fewest bits that hold every id for
SentencePiece); side information carries each block's own
CRC32 of its bytes. The header names everything decoding depends on: the method, the coder's
precision and M1's rows per call, and a SHA-256 of the model (M1 checkpoint, byte unigram or
SentencePiece model) so that decoding with a different one is refused before any byte is produced.

Reading checks, in order: magic, version, the trailing CRC32 (a truncated or altered file fails here),
then the header's fields. Nothing here needs JAX or numba.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"NCZF"
# 2: Equal-Info window contexts are extended rung by rung (nc.coding.engine); version 1 files decode
# with the rows of whole calls per rung, which this nc no longer computes.
FORMAT_VERSION = 2
_BLOCK = struct.Struct(">III")
_CRC_BYTES = 4


class ContainerError(ValueError):
    """A file that is not a (complete, intact, supported) nc container; the message says which."""


@dataclass(frozen=True, kw_only=True)
class ContainerHeader:
    """What decoding a container needs besides its model.

    method: the method's label (``nc.methods.parse_method``); precision: range-coder precision;
    model_sha256: hash of the model the method codes with (``None`` for Bytes and GZip);
    m1_call_mb / m1_max_rows: M1's rows per call (encoder and decoder must match them; ``None`` without
    M1); block_bytes: input bytes per block; input_bytes / input_crc32: the whole input's size and CRC32.
    """

    method: str
    precision: int
    model_sha256: str | None
    m1_call_mb: float | None
    m1_max_rows: int | None
    block_bytes: int
    input_bytes: int
    input_crc32: int


@dataclass(frozen=True)
class Block:
    """One coded example: ``num_bytes`` input bytes as ``num_bits`` bits (packed in ``payload``)."""

    num_bytes: int
    num_bits: int
    payload: bytes
    side_info: bytes


def pack(header: ContainerHeader, blocks: Sequence[Block]) -> bytes:
    """The container bytes of ``header`` and ``blocks``."""
    head = json.dumps(dataclasses.asdict(header), sort_keys=True).encode()
    parts = [MAGIC, bytes([FORMAT_VERSION]), struct.pack(">I", len(head)), head]
    for block in blocks:
        if len(block.payload) != -(-block.num_bits // 8):
            raise ValueError(f"a block of {block.num_bits} bits needs {-(-block.num_bits // 8)} payload bytes")
        parts += [_BLOCK.pack(block.num_bytes, block.num_bits, len(block.side_info)), block.payload, block.side_info]
    body = b"".join(parts)
    return body + zlib.crc32(body).to_bytes(_CRC_BYTES, "big")


def unpack(data: bytes, name: str | Path = "input") -> tuple[ContainerHeader, list[Block]]:
    """Header and blocks of container ``data`` (read from ``name``, which errors mention)."""
    if data[: len(MAGIC)] != MAGIC:
        raise ContainerError(f"{name} is not an nc compressed file (no {MAGIC!r} magic)")
    if len(data) < len(MAGIC) + 1 + 4 + _CRC_BYTES:
        raise ContainerError(f"{name} is truncated ({len(data)} bytes)")
    version = data[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise ContainerError(
            f"{name} has format version {version}; this nc reads version {FORMAT_VERSION} "
            "(compress the original again with this nc)"
        )
    body, crc = data[:-_CRC_BYTES], int.from_bytes(data[-_CRC_BYTES:], "big")
    if zlib.crc32(body) != crc:
        raise ContainerError(f"{name} is truncated or corrupted (its CRC32 does not match)")
    offset = len(MAGIC) + 1
    (head_len,) = struct.unpack_from(">I", body, offset)
    offset += 4
    header = _header(body[offset : offset + head_len], name)
    offset += head_len
    blocks: list[Block] = []
    while offset < len(body):
        if offset + _BLOCK.size > len(body):
            raise ContainerError(f"{name}: block {len(blocks)} is cut short")
        num_bytes, num_bits, side_len = _BLOCK.unpack_from(body, offset)
        offset += _BLOCK.size
        end = offset + -(-num_bits // 8) + side_len
        if end > len(body):
            raise ContainerError(f"{name}: block {len(blocks)} is cut short")
        payload_end = end - side_len
        blocks.append(Block(num_bytes, num_bits, body[offset:payload_end], body[payload_end:end]))
        offset = end
    return header, blocks


def _header(raw: bytes, name: str | Path) -> ContainerHeader:
    try:
        fields: dict[str, Any] = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ContainerError(f"{name}: header is not JSON ({error})") from None
    expected = {f.name for f in dataclasses.fields(ContainerHeader)}
    if not isinstance(fields, dict) or set(fields) != expected:
        got = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
        raise ContainerError(f"{name}: header has fields {got}, expected {sorted(expected)}")
    return ContainerHeader(**fields)
