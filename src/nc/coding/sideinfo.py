"""Side information kept outside the tokens: Elias-gamma coded integers plus a CRC32.

Layout of ``Encoded.side_info``: 4 bytes big-endian CRC32 of the covered input bytes, then the
gamma-coded integers (each stored as x + 1) packed MSB first. ``side_info_bits`` counts only the
gamma bits; the 32 checksum bits are reported separately (``CHECKSUM_BITS``).
"""

from __future__ import annotations

import zlib

import numpy as np

from nc.coding.errors import CorruptStreamError

CHECKSUM_BITS = 32


def elias_gamma_bits(values: list[int]) -> list[int]:
    """Elias-gamma code of each value + 1 (so 0 is codable), concatenated."""
    out: list[int] = []
    for x in values:
        if x < 0:
            raise ValueError(f"side information must be non-negative integers, got {x}")
        v = int(x) + 1
        n = v.bit_length()
        out.extend([0] * (n - 1))
        out.extend((v >> (n - 1 - i)) & 1 for i in range(n))
    return out


def pack_side_info(values: list[int], covered: bytes) -> tuple[bytes, int]:
    """(side_info bytes, side_info_bits) for ``values`` and the CRC32 of ``covered``."""
    gamma = elias_gamma_bits(values)
    crc = zlib.crc32(covered).to_bytes(4, "big")
    return crc + np.packbits(np.array(gamma, dtype=np.uint8)).tobytes(), len(gamma)


def unpack_side_info(side_info: bytes) -> tuple[int, np.ndarray]:
    """(crc32, gamma bits) from ``side_info``; read the values with ``SideInfoReader``."""
    if len(side_info) < 4:
        raise CorruptStreamError(f"side information is {len(side_info)} bytes; it needs at least the 4-byte CRC32")
    crc = int.from_bytes(side_info[:4], "big")
    return crc, np.unpackbits(np.frombuffer(side_info[4:], dtype=np.uint8))


class SideInfoReader:
    """Sequential reader of gamma-coded values."""

    def __init__(self, side_info: bytes):
        self.crc, self._bits = unpack_side_info(side_info)
        self._pos = 0

    def read(self) -> int:
        bits = self._bits
        zeros = 0
        while self._pos + zeros < bits.size and bits[self._pos + zeros] == 0:
            zeros += 1
        end = self._pos + 2 * zeros + 1
        if end > bits.size:
            raise CorruptStreamError("side information is truncated")
        v = 0
        for b in bits[self._pos + zeros : end]:
            v = (v << 1) | int(b)
        self._pos = end
        return v - 1

    def check_crc(self, data: bytes) -> None:
        got = zlib.crc32(data)
        if got != self.crc:
            raise CorruptStreamError(
                f"CRC32 mismatch: decoded bytes give {got:#010x}, side information says {self.crc:#010x}"
            )
