import functools
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc.analysis import stability as S


def brute_levenshtein(a, b):
    """Textbook recursion with memoisation (reference)."""

    @functools.cache
    def d(i, j):
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def test_levenshtein_known_values():
    assert S.levenshtein([], []) == 0
    assert S.levenshtein([1, 2, 3], []) == 3
    assert S.levenshtein(list(b"kitten"), list(b"sitting")) == 3
    assert S.levenshtein([7, 1, 2, 3], [1, 2, 3]) == 1
    assert S.levenshtein([65000, 2], [2, 65000]) == 2


@given(st.lists(st.integers(0, 3), max_size=9), st.lists(st.integers(0, 3), max_size=9))
def test_levenshtein_matches_brute_force(a, b):
    assert S.levenshtein(a, b) == brute_levenshtein(tuple(a), tuple(b))


def test_pairwise_matches_pdist_order_and_reference():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 4, size=rng.integers(0, 8)) for _ in range(7)]
    expected = [brute_levenshtein(tuple(a), tuple(b)) for a, b in itertools.combinations(seqs, 2)]
    assert S.pairwise_edit_distances(seqs).tolist() == expected
    assert S.pairwise_edit_distances(seqs[:1]).size == 0


def test_shipped_word_list_and_seeded_sample():
    words = S.load_prefix_words()
    assert len(words) >= 500 and words[0] == "the" and all(w.isalpha() and w.islower() for w in words)
    assert len(set(words)) == len(words)
    a, b = S.sample_prefix_words(words, 500, seed=3), S.sample_prefix_words(words, 500, seed=3)
    assert a == b and len(set(a)) == 500
    assert a != S.sample_prefix_words(words, 500, seed=4)
    with pytest.raises(ValueError, match="cannot sample"):
        S.sample_prefix_words(words[:10], 11, seed=0)


def test_validation_sentences_skip_fragments_and_filter():
    examples = [
        b"ment of a text. Short one. This complete sentence is long enough to be used for the test here. Tail",
        b"start. Caf\xc3\xa9 sentence with a non-ASCII character is skipped even though it is long enough. "
        b"Another complete sentence that is long enough to pass every filter of the function! End",
    ]
    got = S.validation_sentences(examples, 2, min_chars=40)
    assert got == [
        "This complete sentence is long enough to be used for the test here.",
        "Another complete sentence that is long enough to pass every filter of the function!",
    ]
    with pytest.raises(ValueError, match="only 2 of 3"):
        S.validation_sentences(examples, 3, min_chars=40)


def test_prefix_changes_only_prefix_tokens_for_a_word_tokeniser():
    vocab: dict[str, int] = {}
    word_tok = lambda texts: [np.array([vocab.setdefault(w, len(vocab)) for w in t.split()]) for t in texts]
    # A "context-sensitive" tokeniser: every id depends on the first word (like AC re-coding everything).
    ctx_tok = lambda texts: [
        np.array([sum(t.split()[0].encode()) * (i + 1) % 1009 for i, _ in enumerate(t.split())]) for t in texts
    ]
    sentence = "the cat sat on the mat today"
    words = ["alpha", "beta", "gamma", "delta"]
    d = S.stability_distances([sentence], words, {"word": word_tok, "ctx": ctx_tok})
    assert d["word"].tolist() == [1] * 6
    assert d["ctx"].min() > 1
    hist, summary = S.stability_tables(d, 1, {"word": 8.0, "ctx": 8.0})
    assert hist[hist.method == "word"].values.tolist() == [["word", 1, 6]]
    assert summary.set_index("method").loc["word", "pairs"] == 6
    fig = S.plot_edit_distances(hist, title="t")
    assert len(fig.axes[0].lines) == 2


def test_validation_sentences_fold_line_breaks():
    """Verse breaks sentences over lines; the line breaks must not disqualify them."""
    from nc.analysis.stability import validation_sentences

    example = (
        b"ends a line.\nFRANCISCO\nFor this relief much thanks: 'tis bitter cold,\n"
        b"And I am sick at heart, and weary of the watch.\nBERNARDO\nHave you had quiet guard?"
    )
    (sentence,) = validation_sentences([example], 1)
    assert sentence == (
        "FRANCISCO For this relief much thanks: 'tis bitter cold, And I am sick at heart, and weary of the watch."
    )
