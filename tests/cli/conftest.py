"""Models for the ``nc`` command-line tests: tiny M1 runs, a byte unigram and a SentencePiece model."""

import gzip
import json

import numpy as np
import pytest

from nc.data.dataset import TokenDataset
from nc.data.readers import EMBEDDED_CORPUS
from nc.data.tokenizers import train_sentencepiece
from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm


@pytest.fixture(scope="session")
def english_text() -> bytes:
    """The first 60,000 bytes of the embedded corpus's validation text."""
    with gzip.open(next(EMBEDDED_CORPUS.glob("c4-validation.*.json.gz")), "rt", encoding="utf-8") as f:
        text = "".join(json.loads(line)["text"] + "\n" for line, _ in zip(f, range(40)))
    return text.encode()[:60_000]


def _train_m1(run_dir, steps: int):
    rng = np.random.default_rng(steps)
    text = rng.integers(97, 123, (16, 32)).astype(np.uint8)
    n = np.full(16, 32, np.int32)
    dataset = TokenDataset(text, n, n.astype(np.int64), {"method": "Bytes", "vocab_size": 256, "seq_len": 32})
    config = TrainConfig(steps=steps, batch_size=4, warmup_steps=2, dtype="float32")
    train_lm(dataset, None, model_size("s0"), config, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def models(tmp_path_factory, english_text):
    """Flags for each model kind: two M1 runs (different weights), a byte unigram, a SentencePiece model."""
    root = tmp_path_factory.mktemp("models")
    unigram = root / "byte_unigram.json"
    counts = np.bincount(np.frombuffer(english_text, np.uint8), minlength=256)
    unigram.write_text(json.dumps({"byte_counts": counts.tolist()}))
    tokenizer = root / "spm.model"
    train_sentencepiece([english_text], tokenizer, vocab_size=512)
    return {
        "m1": _train_m1(root / "m1", steps=3),
        "other_m1": _train_m1(root / "other_m1", steps=4),
        "unigram": unigram,
        "tokenizer": tokenizer,
        "flags": ["--m1", str(root / "m1"), "--unigram", str(unigram), "--tokenizer", str(tokenizer)],
    }
