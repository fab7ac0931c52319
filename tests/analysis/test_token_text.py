import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nc.analysis import token_text as T
from nc.analysis.token_text import MINIMUMS, TokenAnalysisOptions


def enc(text: bytes, tokens, starts, k=2):
    return T.WindowedEncoding(text=text, tokens=np.array(tokens), window_starts=np.array(starts), tokens_per_window=k)


# Two synthetic EqualInfoAC[b=16;v=256] encodings: token 7 opens windows "le"/"less" and sits second
# in "ust" and "this"; token 9 repeats once as first token; token 3 occurs once only.
ENCODINGS = [
    enc(b"leustless", [7, 5, 9, 7], [0, 2]),  # windows: "le" (7, 5), "ustless" (9, 7)
    enc(b"lessthisx", [7, 9, 9, 7, 3, 1], [0, 4, 8]),  # "less" (7, 9), "this" (9, 7), "x" (3, 1)
]


def test_window_bytes_and_validation():
    e = ENCODINGS[1]
    assert [e.window_bytes(w) for w in range(e.num_windows)] == [b"less", b"this", b"x"]
    assert e.window_tokens(1).tolist() == [9, 7]
    with pytest.raises(ValueError, match="do not fill"):
        enc(b"ab", [1, 2, 3], [0, 1])
    with pytest.raises(ValueError, match="start at 0"):
        enc(b"ab", [1, 2], [1])


def test_window_occurrences_positions():
    occ = T.window_occurrences(ENCODINGS)
    assert len(occ) == 10
    sevens = occ[occ.token == 7].sort_values(["position", "window_text"])
    assert sevens.values.tolist() == [[7, 1, "le"], [7, 1, "less"], [7, 2, "this"], [7, 2, "ustless"]]


def test_repeated_token_windows_dedupes_and_drops_singletons():
    occ = T.window_occurrences(ENCODINGS + [enc(b"le", [7, 5], [0])])
    table = T.repeated_token_windows(occ)
    assert 3 not in set(table.token) and 1 not in set(table.token)
    row = table[(table.token == 7) & (table.position == 1)].iloc[0]
    assert row.occurrences == 3 and row.window_texts == "[le] / [less]"


def test_repeated_token_fraction():
    assert T.repeated_token_fraction(np.array([1, 1, 2, 3, 3, 3, 4])) == pytest.approx(0.5)
    assert T.repeated_token_fraction(np.arange(10)) == 0.0
    with pytest.raises(ValueError):
        T.repeated_token_fraction(np.array([]))


def test_table8_choice_and_seeded_sample():
    occ = T.window_occurrences(ENCODINGS)
    assert T.most_common_both_positions(occ, 2) == [7, 9]
    a = T.sample_window_texts(occ, [7], samples=1, seed=0)
    assert a.equals(T.sample_window_texts(occ, [7], samples=1, seed=0))
    assert a.occurrences.tolist() == [2, 2] and a.position.tolist() == [1, 2]
    full = T.sample_window_texts(occ, [7], samples=5, seed=0)
    assert sorted(full.window_texts[0].split(" / ")) == ["[le]", "[less]"]


def test_equal_info_pieces_and_table7_markdown():
    one = enc(b"The three", [500, 17], [0, 6], k=1)
    pieces = T.equal_info_pieces(one)
    assert pieces == [(500, "The th"), (17, "ree")]
    rows = pd.concat(
        [
            T.token_text_rows("SentencePiece", [(1, "The"), (2, "three")]),
            T.token_text_rows("EqualInfoAC[b=16;v=65k]", pieces),
        ]
    )
    md = T.table7_markdown(rows, "The three")
    assert "| SentencePiece Tokens | [The] [three] |" in md
    assert "| EqualInfoAC[b=16;v=65k] Tokens | [The th] [ree] |" in md
    with pytest.raises(ValueError, match="one token per window"):
        T.equal_info_pieces(ENCODINGS[0])


def test_display_text_escapes_split_characters():
    assert T.display_text("caf\u00e9".encode()[:-1]) == "caf\\xc3"


def test_windowed_adapts_an_encoding():
    from types import SimpleNamespace

    from nc.methods import parse_method

    e = SimpleNamespace(tokens=np.array([7, 5, 9, 7]), window_starts=np.array([0, 2]), num_bytes=9)
    w = T.windowed(e, b"leustless and more", parse_method("EqualInfoAC[b=16;v=256]"))
    assert w.tokens_per_window == 2 and w.text == b"leustless"
    with pytest.raises(ValueError, match="EqualInfoAC"):
        T.windowed(e, b"", parse_method("AC[v=256]"))


def test_options_defaults_and_errors():
    o = T.TokenAnalysisOptions.from_config({"kl_max_n": 8, "stability_methods": ["SentencePiece"]})
    assert o.kl_max_n == 8 and o.stability_methods == ("SentencePiece",) and o.kl_partitions == 100
    with pytest.raises(ValueError, match="unknown key.*kl_maxn"):
        T.TokenAnalysisOptions.from_config({"kl_maxn": 3})
    with pytest.raises(ValueError, match="kl_partitions"):
        T.TokenAnalysisOptions.from_config({"kl_partitions": 0})
    with pytest.raises(ValueError, match="kl_max_n"):
        T.TokenAnalysisOptions.from_config({"kl_max_n": 30})


def test_write_table_writes_csv_and_markdown(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    T.write_table(df, tmp_path / "t.csv", "A title")
    assert pd.read_csv(tmp_path / "t.csv").equals(df)
    md = (tmp_path / "t.md").read_text()
    assert md.startswith("# A title") and "| a | b |" in md and "| 2 | y |" in md


def test_schema_matches_options():
    import dataclasses
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "config/schema/analysis_tokens.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    defaults = {f.name: f.default for f in dataclasses.fields(T.TokenAnalysisOptions)}
    assert set(schema["properties"]) == set(defaults)
    for key, prop in schema["properties"].items():
        if "default" in prop:
            assert T.TokenAnalysisOptions.from_config({key: prop["default"]}) == T.TokenAnalysisOptions(), key


@pytest.mark.slow
def test_window_texts_of_a_real_equal_info_encoding():
    from nc.coding import UnigramSource, encode_examples
    from nc.methods import parse_method

    counts = (
        np.bincount(np.frombuffer(b"the quick brown fox jumps over the lazy dog " * 4, np.uint8), minlength=256) + 0.01
    )
    source = UnigramSource(counts / counts.sum())
    docs = [b"the lazy dog jumps over the quick brown fox and the dog sleeps", b"brown dogs and lazy foxes"]
    for label, k in (("EqualInfoAC[b=16;v=256]", 2), ("EqualInfoAC[b=16;v=65k]", 1)):
        method = parse_method(label)
        encs = [T.windowed(e, d, method) for e, d in zip(encode_examples(docs, method, source), docs)]
        assert all(e.tokens_per_window == k for e in encs)
        for e, d in zip(encs, docs):
            assert b"".join(e.window_bytes(w) for w in range(e.num_windows)) == d[: len(e.text)]
        occ = T.window_occurrences(encs)
        assert len(occ) == sum(len(e.tokens) for e in encs) and set(occ.position) == set(range(1, k + 1))
        # The same window text always gets the same window-initial token (windows are coded in isolation).
        first = occ[occ.position == 1]
        assert (first.groupby("window_text").token.nunique() == 1).all()


SHARED = Path(__file__).resolve().parents[2].parent / "shared"
T5_VOCAB = SHARED / "t5_vocab" / "sentencepiece_cc_all.32000.100extra.model"
PAPER_TEXT = SHARED / "paper" / "001_fcd46d4a63cbcd8c.txt"


@pytest.mark.skipif(
    not (T5_VOCAB.is_file() and PAPER_TEXT.is_file()),
    reason=f"needs T5's vocabulary ({T5_VOCAB}; gs://t5-data/vocabs/cc_all.32000/sentencepiece.model) "
    f"and the paper's text ({PAPER_TEXT})",
)
def test_t5_vocabulary_reproduces_table7_sentencepiece_row():
    row = next(
        line
        for line in PAPER_TEXT.read_text(encoding="utf-8").splitlines()
        if line.startswith("SentencePiece Tokens\t")
    )
    published = re.findall(r"\[([^\]]*)\]", row)
    pieces = [text for _, text in T.sentencepiece_pieces(T5_VOCAB, T.TABLE7_TEXT)]
    assert len(published) == 27 and pieces == published


def test_token_options_agree_with_their_schema():
    """Defaults and lower bounds live in the dataclass and the schema; they must say the same."""
    schema = json.loads((Path(__file__).resolve().parents[2] / "config/schema/analysis_tokens.schema.json").read_text())
    props = schema["properties"]
    fields = {f.name: f for f in dataclasses.fields(TokenAnalysisOptions)}
    assert set(fields) == set(props)
    for name, spec in props.items():
        if "default" in spec:
            default = fields[name].default
            assert (list(default) if isinstance(default, tuple) else default) == spec["default"], name
        if spec.get("type") == "integer":
            assert spec["minimum"] == MINIMUMS.get(name, 1), name
            with pytest.raises(ValueError, match=name):
                TokenAnalysisOptions.from_config({name: spec["minimum"] - 1})
            TokenAnalysisOptions.from_config({name: max(spec["minimum"], min(spec.get("maximum", 10**9), 4))})
