"""Appendix A.3's spelling task and the fine-tune that continues a pre-trained run."""

import numpy as np
import pytest

from nc.data import spelling
from nc.data.dataset import TokenDataset
from nc.data.tokenizers import SentencePieceTokenizer, train_sentencepiece
from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm
from nc.train.finetune import finetune_lm
from nc.train.run import load_train_state


def test_word_split_is_seeded_disjoint_and_complete():
    words = spelling.shipped_words()
    assert len(words) == 3000 and words[0] == "the"
    train, held = spelling.split_words(words, 0.2, seed=0)
    assert len(held) == 600 and not set(train) & set(held) and set(train) | set(held) == set(words)
    assert spelling.split_words(words, 0.2, seed=0) == (train, held)
    assert spelling.split_words(words, 0.2, seed=1)[1] != held
    with pytest.raises(ValueError, match="held_out_fraction"):
        spelling.split_words(words, 1.0, 0)


def test_character_ids_follow_the_three_schemes(tmp_path):
    ids = spelling.character_ids(spelling.SCHEMES["byt5"], "abz", 256)
    assert ids == {"a": 97 + 3, "b": 98 + 3, "z": 122 + 3}
    with pytest.raises(ValueError, match="no ByT5 id"):
        spelling.character_ids(spelling.SCHEMES["byt5"], "a", 64)
    words = spelling.shipped_words()
    text = ["\n".join(" ".join(words[i : i + 8]) for i in range(0, len(words), 8)).encode()] * 3
    train_sentencepiece(text, tmp_path / "sp.model", 500, max_sentences=10000)
    tok = SentencePieceTokenizer(tmp_path / "sp.model")
    sp = tok.processor
    chars = spelling.character_ids(spelling.SCHEMES["characters"], "abc", tok.vocab_size, tok)
    for c, i in chars.items():
        assert sp.id_to_piece(i) in (c, f"<0x{ord(c):02X}>")
    shared = spelling.character_ids(spelling.SCHEMES["shared"], "abc", tok.vocab_size, tok, seed=0)
    assert len(set(shared.values())) == 3
    assert all(len(sp.id_to_piece(i).replace("\u2581", "")) > 1 for i in shared.values())


def test_spelling_rows_score_only_the_characters():
    inputs = {"cat": np.array([7, 8]), "dog": np.array([9])}
    ids = spelling.character_ids(spelling.SCHEMES["byt5"], "catdog", 256)
    ds = spelling.spelling_dataset(["cat", "dog"], inputs, ids, 0, 256, "EqualInfoAC[b=16;v=256]")
    assert ds.seq_len == 6
    assert list(ds.tokens[0]) == [7, 8, 0, 99 + 3, 97 + 3, 116 + 3]
    assert list(ds.loss_mask()[0]) == [False, False, False, True, True, True]
    assert list(ds.loss_mask()[1]) == [False, False, True, True, True, False]


def _pretrained(tmp_path, steps=6):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 16, (32, 8)).astype(np.uint8)
    n = np.full(32, 8, np.int32)
    lm = TokenDataset(
        tokens, n, n.astype(np.int64), {"method": "EqualInfoAC[b=16;v=256]", "vocab_size": 256, "seq_len": 8}
    )
    cfg = TrainConfig(steps=steps, batch_size=8, warmup_steps=2, eval_batches=1, dtype="float32")
    train_lm(lm, None, model_size("s1"), cfg, tmp_path, progress=False)
    return tmp_path


def test_finetune_continues_the_schedule_and_learns_to_spell(tmp_path):
    run = _pretrained(tmp_path / "pre")
    words = ["a", "b", "c", "ca"]
    inputs = {w: np.array([ord(c) % 16 for c in w]) for w in words}
    ids = spelling.character_ids(spelling.SCHEMES["byt5"], "abc", 256)
    task = spelling.spelling_dataset(words, inputs, ids, 0, 256, "EqualInfoAC[b=16;v=256]")
    curve = finetune_lm(run, task, {"train": task}, steps=200, batch_size=4, eval_every=40, progress=False)
    assert [row["step"] for row in curve] == [0, 40, 80, 120, 160, 200]
    # From no word spelled right to most of them (a one-layer model memorising four words)
    assert curve[0]["train_accuracy"] == 0.0 and max(row["train_accuracy"] for row in curve) >= 0.75
    assert load_train_state(run).step == 6  # the pre-trained run is left as it was
    with pytest.raises(ValueError, match="vocab_size"):
        small = spelling.spelling_dataset(words, inputs, ids, 0, 200, "x")
        finetune_lm(run, small, {}, steps=1, batch_size=4, eval_every=1, progress=False)
