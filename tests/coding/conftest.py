"""Shared fixtures for the coding tests: English text and small fitted sources."""
from pathlib import Path

import pytest

from nc.coding import BigramSource, static_source

PAPER = Path("/work/shared/paper/001_fcd46d4a63cbcd8c.txt")
FALLBACK = (
    "Arithmetic coding compresses a sequence of symbols into a single number in the unit interval. "
    "Equal-Info windows reset the coder after a fixed number of output bits, so each window can be "
    "decoded on its own. The quick brown fox jumps over the lazy dog; naïve café résumé — ✓ 東京. "
) * 40


class Text(bytes):
    """Bytes with a short repr (hypothesis prints fixture arguments of failing cases)."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes of English>"


def english_text() -> bytes:
    """Some kilobytes of English (the paper's text when present, else a built-in paragraph)."""
    if PAPER.exists():
        return Text(PAPER.read_bytes()[:60_000])
    return Text(FALLBACK.encode())


@pytest.fixture(scope="session")
def english() -> bytes:
    return english_text()


@pytest.fixture(scope="session")
def unigram(english):
    return static_source([english[:30_000]])


@pytest.fixture(scope="session")
def bigram(english):
    return BigramSource.fit([english[:30_000]])
