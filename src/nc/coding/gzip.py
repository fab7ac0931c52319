"""GZip baseline (Section 3.3, A.4): Python zlib at the default level, with or without header/footer."""

from __future__ import annotations

import zlib

from nc.coding.errors import CorruptStreamError

HEADER_BYTES = 2  # zlib header (CMF, FLG)
FOOTER_BYTES = 4  # Adler-32 of the input


def gzip_compress(data: bytes, header: bool = True) -> bytes:
    """zlib.compress at the default level; ``header=False`` strips header and footer (raw DEFLATE)."""
    stream = zlib.compress(bytes(data))
    return stream if header else stream[HEADER_BYTES:-FOOTER_BYTES]


def _window_bits(header: bool) -> int:
    return zlib.MAX_WBITS if header else -zlib.MAX_WBITS


def inflater(header: bool = True):
    """A ``zlib.decompressobj`` for streams of ``gzip_compress(..., header)``."""
    return zlib.decompressobj(_window_bits(header))


def gzip_prefix_bytes(stream_prefix: bytes, header: bool = True) -> bytes:
    """Input bytes a prefix of a compressed stream determines (what zlib.decompressobj yields)."""
    try:
        return inflater(header).decompress(bytes(stream_prefix))
    except zlib.error as e:
        raise CorruptStreamError(f"GZip stream does not decompress: {e}") from e
