"""Shared fixtures for the coding tests: English text and small fitted sources."""

import pytest

from nc.coding import BigramSource, static_source

NON_ASCII = (
    "Equal-Info windows reset the coder after a fixed number of output bits, so each window can be "
    "decoded on its own. The quick brown fox jumps over the lazy dog; naïve café résumé — ✓ 東京. "
) * 20


class Text(bytes):
    """Bytes with a short repr (hypothesis prints fixture arguments of failing cases)."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes of English>"


def english_text() -> bytes:
    """60 KB of English from the embedded corpus, followed by a paragraph with non-ASCII UTF-8."""
    from nc.data.readers import EMBEDDED_CORPUS, iter_documents

    text = "\n".join(iter_documents(EMBEDDED_CORPUS, "train", max_documents=20)).encode()
    return Text(text[: 60_000 - 2_000] + NON_ASCII.encode()[:2_000])


@pytest.fixture(scope="session")
def english() -> bytes:
    return english_text()


@pytest.fixture(scope="session")
def unigram(english):
    return static_source([english[:30_000]])


@pytest.fixture(scope="session")
def bigram(english):
    return BigramSource.fit([english[:30_000]])
