import numpy as np
import pytest

from nc.data.dataset import TokenDataset


def make_dataset(n: int, seq_len: int = 16, vocab: int = 64, seed: int = 0, loss_start: bool = False) -> TokenDataset:
    """Learnable toy data: every odd position repeats the token before it; some rows padded."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocab, (n, seq_len)).astype(np.uint8)
    tokens[:, 1::2] = tokens[:, ::2]
    num_tokens = np.full(n, seq_len, np.int32)
    num_tokens[::3] = seq_len - 5
    for i in range(n):
        tokens[i, num_tokens[i] :] = 0
    meta = {"method": "Bytes", "vocab_size": vocab, "seq_len": seq_len}
    start = np.full(n, 4, np.int32) if loss_start else None
    return TokenDataset(tokens, num_tokens, num_tokens.astype(np.int64) * 3, meta, loss_start=start)


@pytest.fixture
def toy_data():
    return make_dataset(48, seed=0), make_dataset(16, seed=1)
