"""``nc compress`` / ``nc decompress``: a file, split into blocks, through any method (docs/CLI.md).

A block is one example of the coder, ``block_bytes`` long (the last one shorter). Bitstream methods
(AC, StaticAC, EqualInfoAC, GZip) store each block's token bits and side information; Bytes and
SentencePiece store token ids. The container (``nc.coding.container``) records what decoding depends
on, and decoding refuses a different model, a different method or an altered file before writing a byte.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from nc.coding import (
    ContextPlan,
    CorruptStreamError,
    Encoded,
    ProbabilitySource,
    bits_to_tokens,
    decode_examples,
    encode_examples,
    tokens_to_bits,
)
from nc.coding.container import Block, ContainerError, ContainerHeader, pack, unpack
from nc.coding.sideinfo import SideInfoReader, pack_side_info
from nc.data.tokenizers import SentencePieceTokenizer
from nc.io import write_bytes
from nc.methods import MethodSpec, parse_method
from nc.pipeline.steps import probability_source
from nc.sections import CodingConfig

DEFAULT_BLOCK_BYTES = 2048
BLOCKS_PER_CALL = 16  # blocks coded together: one M1 call serves them all


@dataclass(frozen=True)
class Models:
    """Where a method's model comes from: M1 run (AC, EqualInfoAC), byte-unigram JSON with ``byte_counts``
    (StaticAC, the ``byte_unigram`` output of the workflow) or SentencePiece model file."""

    m1_dir: Path | None = None
    unigram: Path | None = None
    tokenizer: Path | None = None


@dataclass
class Coder:
    """A method with its loaded model: what encodes and decodes blocks."""

    method: MethodSpec
    coding: CodingConfig
    source: ProbabilitySource | None
    tokenizer: SentencePieceTokenizer | None
    model_sha256: str | None

    @property
    def token_bits(self) -> int:
        """Bits per stored token: the method's token width; SentencePiece ids the fewest bits that hold them."""
        if self.tokenizer is None:
            return self.method.fixed_token_bits
        return max(1, (self.tokenizer.vocab_size - 1).bit_length())


def params_sha256(params) -> str:
    """SHA-256 of a parameter tree: each leaf's path, dtype, shape and bytes, in tree order."""
    digest = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        array = np.asarray(leaf)
        digest.update(f"{jax.tree_util.keystr(path)}|{array.dtype}|{array.shape}|".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _needed(path: Path | None, flag: str, method: MethodSpec) -> Path:
    if path is None:
        raise ValueError(f"{method.label} needs {flag}")
    if not Path(path).exists():
        raise FileNotFoundError(f"{flag} {path} does not exist")
    return Path(path)


def load_coder(method: MethodSpec, models: Models, coding: CodingConfig) -> Coder:
    """``method`` with its model loaded from ``models`` (errors name the missing flag)."""
    tokenizer, digest, source = None, None, None
    if method.uses_m1:
        source = probability_source(method, coding, m1_dir=_needed(models.m1_dir, "--m1", method))
        digest = params_sha256(source.params)
    elif method.kind == "StaticAC":
        unigram = _needed(models.unigram, "--unigram", method)
        source = probability_source(method, coding, unigram_path=unigram)
        digest = file_sha256(unigram)
    elif method.kind == "SentencePiece":
        path = _needed(models.tokenizer, "--tokenizer", method)
        tokenizer = SentencePieceTokenizer(path)
        digest = file_sha256(path)
    return Coder(method, coding, source, tokenizer, digest)


def _blocks(data: bytes, block_bytes: int) -> list[bytes]:
    return [data[i : i + block_bytes] for i in range(0, len(data), block_bytes)]


def _encode(coder: Coder, group: list[bytes]) -> list[Encoded]:
    coding = coder.coding
    plan = ContextPlan("auto", length_step=coding.m1_length_step)
    return encode_examples(
        group, coder.method, coder.source, precision=coding.precision, batch_size=coding.batch_size, plan=plan
    )


def _bit_block(method: MethodSpec, encoded: Encoded, block: bytes, index: int) -> Block:
    if encoded.num_bytes != len(block):
        raise RuntimeError(f"block {index}: {method.label} covered {encoded.num_bytes} of its {len(block)} bytes")
    return _packed(encoded.tokens, method.fixed_token_bits, encoded.num_bits, encoded.num_bytes, encoded.side_info)


def _packed(tokens: np.ndarray, token_bits: int, num_bits: int, num_bytes: int, side_info: bytes) -> Block:
    bits = tokens_to_bits(tokens, token_bits, num_bits)
    return Block(num_bytes, num_bits, np.packbits(bits).tobytes(), side_info)


def _unpacked(block: Block, token_bits: int) -> np.ndarray:
    """The tokens of ``block`` (its payload's first ``num_bits`` bits, ``token_bits`` per token)."""
    bits = np.unpackbits(np.frombuffer(block.payload, dtype=np.uint8))[: block.num_bits]
    return bits_to_tokens(bits, token_bits)


def _id_block(coder: Coder, block: bytes, index: int) -> Block:
    """Bytes / SentencePiece: token ids of ``coder.token_bits`` bits; side information is the block's
    CRC32 in the coder's layout (``pack_side_info`` with no values).
    SentencePiece is lossless only on text it can tokenise back (valid UTF-8 its normaliser leaves as is)."""
    if coder.tokenizer is None:
        ids = np.frombuffer(block, dtype=np.uint8)
    else:
        ids, _ = coder.tokenizer.encode(block)
        decoded = coder.tokenizer.decode(ids)
        if decoded != block:
            first = next((i for i, (a, b) in enumerate(zip(decoded, block)) if a != b), min(len(decoded), len(block)))
            raise ValueError(
                f"SentencePiece cannot reproduce block {index} (from its byte {first} on): "
                "it is lossless only on text its normaliser leaves unchanged; use a bitstream method"
            )
    width = coder.token_bits
    side_info, _ = pack_side_info([], block)
    return _packed(np.asarray(ids), width, width * len(ids), len(block), side_info)


def compress_file(
    source_path: Path,
    target_path: Path,
    method: MethodSpec,
    models: Models,
    coding: CodingConfig,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    progress: bool = False,
) -> ContainerHeader:
    """Compress file ``source_path`` into container ``target_path`` (written atomically)."""
    if block_bytes < 1:
        raise ValueError(f"--block-bytes must be positive, got {block_bytes}")
    data = Path(source_path).read_bytes()
    coder = load_coder(method, models, coding)
    blocks = encode_blocks(coder, _blocks(data, block_bytes), progress)
    header = ContainerHeader(
        method=method.label,
        precision=coding.precision,
        model_sha256=coder.model_sha256,
        m1_call_mb=coding.m1_call_mb if method.uses_m1 else None,
        m1_max_rows=coding.m1_max_rows if method.uses_m1 else None,
        block_bytes=block_bytes,
        input_bytes=len(data),
        input_crc32=zlib.crc32(data),
    )
    write_bytes(target_path, pack(header, blocks))
    return header


def encode_blocks(coder: Coder, blocks: list[bytes], progress: bool = False) -> list[Block]:
    """Each block coded alone (whole contexts), ``BLOCKS_PER_CALL`` at a time."""
    out: list[Block] = []
    bar = tqdm(
        total=sum(map(len, blocks)),
        desc=f"compress {coder.method.label}",
        unit="B",
        unit_scale=True,
        disable=not progress,
    )
    for first in range(0, len(blocks), BLOCKS_PER_CALL):
        group = blocks[first : first + BLOCKS_PER_CALL]
        if coder.method.is_bitstream:
            encoded = _encode(coder, group)
            out += [_bit_block(coder.method, e, b, first + i) for i, (e, b) in enumerate(zip(encoded, group))]
        else:
            out += [_id_block(coder, b, first + i) for i, b in enumerate(group)]
        bar.update(sum(map(len, group)))
    bar.close()
    return out


def read_container(path: Path) -> tuple[ContainerHeader, list[Block]]:
    """The container at ``path`` (``ContainerError`` when it is not one, or not intact)."""
    return unpack(Path(path).read_bytes(), path)


def decompress_file(
    source_path: Path, target_path: Path, models: Models, coding: CodingConfig, progress: bool = False
) -> ContainerHeader:
    """Decompress container ``source_path`` into ``target_path`` (written atomically, only once every
    block has decoded and the whole output matches the recorded size and CRC32)."""
    header, blocks = read_container(source_path)
    method = parse_method(header.method)
    coding = CodingConfig(
        precision=header.precision,
        m1_call_mb=header.m1_call_mb if header.m1_call_mb is not None else coding.m1_call_mb,
        m1_max_rows=header.m1_max_rows if header.m1_max_rows is not None else coding.m1_max_rows,
        m1_length_step=coding.m1_length_step,
        batch_size=coding.batch_size,
    )
    coder = load_coder(method, models, coding)
    if coder.model_sha256 != header.model_sha256:
        raise ContainerError(
            f"{source_path} was compressed with a {method.label} model of SHA-256 {header.model_sha256}; "
            f"the one given has {coder.model_sha256}: decompress with the model it was compressed with"
        )
    data = b"".join(decode_blocks(coder, blocks, progress))
    if len(data) != header.input_bytes or zlib.crc32(data) != header.input_crc32:
        raise ContainerError(f"{source_path}: decoded {len(data)} bytes that do not match the recorded input")
    write_bytes(target_path, data)
    return header


def decode_blocks(coder: Coder, blocks: list[Block], progress: bool = False) -> Iterator[bytes]:
    """Each block's bytes, in order; ``CorruptStreamError`` names the first block that does not decode."""
    total = sum(b.num_bytes for b in blocks)
    bar = tqdm(total=total, desc=f"decompress {coder.method.label}", unit="B", unit_scale=True, disable=not progress)
    for first in range(0, len(blocks), BLOCKS_PER_CALL):
        group = blocks[first : first + BLOCKS_PER_CALL]
        try:
            decoded = _decode(coder, group)
        except CorruptStreamError as error:
            raise CorruptStreamError(f"blocks {first}..{first + len(group) - 1}: {error}") from None
        for i, (block, data) in enumerate(zip(group, decoded)):
            if len(data) != block.num_bytes:
                raise CorruptStreamError(f"block {first + i} decoded to {len(data)} bytes, not {block.num_bytes}")
            bar.update(len(data))
            yield data
    bar.close()


def _decode(coder: Coder, group: list[Block]) -> list[bytes]:
    method = coder.method
    if method.is_bitstream:
        encoded = [_encoded(method, block) for block in group]
        return decode_examples(
            encoded, method, coder.source, precision=coder.coding.precision, batch_size=coder.coding.batch_size
        )
    out = []
    for block in group:
        if block.num_bits % coder.token_bits:
            raise CorruptStreamError(f"a block of {block.num_bits} bits is no whole number of {method.label} tokens")
        ids = _unpacked(block, coder.token_bits)
        if method.kind == "Bytes":
            data = ids.astype(np.uint8).tobytes()
        else:
            assert coder.tokenizer is not None
            data = coder.tokenizer.decode(ids)
        SideInfoReader(block.side_info).check_crc(data)
        out.append(data)
    return out


def _encoded(method: MethodSpec, block: Block) -> Encoded:
    tokens = _unpacked(block, method.fixed_token_bits)
    return Encoded(tokens, block.num_bits, block.num_bytes, block.side_info, side_info_bits=0)
