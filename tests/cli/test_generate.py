"""``nc generate``: every method's M2 samples and streams text, deterministically for a seed; each decoded
Equal-Info window's text, coded alone, gives back the sampled window; bad flags are one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest

from nc.analysis.options import GenerationOptions
from nc.cli.codec import Models, load_coder
from nc.cli.generate import (
    STOP_CONTEXT,
    STOP_INVALID_STREAM,
    STOP_MAX_BYTES,
    STOP_MAX_STEPS,
    Generator,
    Sampling,
    sample_token,
    write_latency_figure,
)
from nc.cli.main import EXIT_ERROR, main
from nc.coding import encode_examples, tokens_to_bits
from nc.data.method_datasets import tokenize_examples
from nc.methods import parse_method
from nc.models.sizes import model_size
from nc.sections import CodingConfig
from nc.train import TrainConfig, train_lm

METHODS = (
    "Bytes",
    "SentencePiece",
    "GZip[v=256]",
    "StaticAC[v=256]",
    "AC[v=256]",
    "EqualInfoAC[b=16;v=256]",
    "EqualInfoAC[b=16;v=65k]",
    "EqualInfoAC[b=16;v=256;reset=2]",
)
CODING = CodingConfig(precision=14, m1_call_mb=256.0, m1_max_rows=256, m1_length_step=64)
SEQ_LEN = 32


@pytest.fixture(scope="module")
def m2_runs(models, english_text, tmp_path_factory):
    """One briefly trained s0 M2 per method, on the method's tokens of English text (lazily, by label)."""
    root = tmp_path_factory.mktemp("m2")
    flags = Models(m1_dir=models["m1"], unigram=models["unigram"], tokenizer=models["tokenizer"])
    examples = [english_text[i : i + 256] for i in range(0, 64 * 256, 256)]
    runs: dict[str, object] = {}

    def run(label: str):
        if label not in runs:
            method = parse_method(label)
            coder = load_coder(method, flags, CODING)
            data = tokenize_examples(
                examples, method, seq_len=SEQ_LEN, source=coder.source, sentencepiece=coder.tokenizer
            ).dataset
            config = TrainConfig(steps=25, batch_size=8, warmup_steps=2, dtype="float32")
            train_lm(data, None, model_size("s0"), config, root / method.slug, progress=False)
            runs[label] = root / method.slug
        return runs[label]

    return run, flags


def _cli(models, run_dir, *extra):
    return main(["generate", "--m2", str(run_dir), *models["flags"], *extra])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_streams_the_same_text_for_a_seed(models, m2_runs, capsysbinary, method):
    run, flags = m2_runs
    outputs = []
    for _ in range(2):
        assert _cli(models, run(method), "--prompt", "The ", "--max-bytes", "40", "--seed", "5") == 0
        captured = capsysbinary.readouterr()
        outputs.append(captured.out)
        assert b"M2 steps" in captured.err and b"stop: " in captured.err
    assert outputs[0] == outputs[1]
    generator = Generator(run(method), flags, CODING)
    pieces: list[bytes] = []
    result = generator.generate(b"The ", 40, Sampling(seed=5), on_text=pieces.append)
    assert outputs[0] == result.text + b"\n" and b"".join(pieces) == result.text
    assert 0 < result.steps <= SEQ_LEN - result.prompt_tokens and len(result.text) <= 40
    assert result.stop in (STOP_MAX_BYTES, STOP_CONTEXT) or result.stop.startswith("stream") or result.dropped_windows
    other = generator.generate(b"The ", 40, Sampling(seed=6))
    assert other.tokens != result.tokens


@pytest.mark.parametrize("method", ["Bytes", "SentencePiece"])
def test_token_methods_stream_text_as_each_token_decodes(m2_runs, method):
    run, flags = m2_runs
    pieces: list[bytes] = []
    result = Generator(run(method), flags, CODING).generate(b"", 1000, Sampling(seed=1), on_text=pieces.append)
    assert result.stop == STOP_CONTEXT and result.steps == SEQ_LEN
    assert len(pieces) > SEQ_LEN // 2  # text reaches the caller token by token, not at the end


@pytest.mark.parametrize("method", ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=65k]"])
def test_each_decoded_window_coded_alone_gives_back_the_sampled_window(m2_runs, method):
    run, flags = m2_runs
    spec = parse_method(method)
    generator = Generator(run(method), flags, CODING)
    result = generator.generate(b"", 1000, Sampling(seed=2))
    bits = tokens_to_bits(np.asarray(result.tokens), spec.fixed_token_bits, len(result.tokens) * spec.fixed_token_bits)
    windows = bits.reshape(-1, spec.fixed_window_bits)
    assert [w.index for w in result.windows] == list(range(len(windows)))
    decoded = [w for w in result.windows if w.text is not None]
    assert decoded and result.dropped_windows == len(windows) - len(decoded)
    for window in decoded:
        encoded = encode_examples([window.text], spec, generator.coder.source, precision=CODING.precision)[0]
        again = tokens_to_bits(encoded.tokens, spec.fixed_token_bits, encoded.num_bits)
        assert encoded.num_bytes == len(window.text)
        np.testing.assert_array_equal(again, windows[window.index])
    assert result.text == b"".join(w.text for w in decoded)


def test_stream_methods_continue_the_text_their_prompt_tokens_fix(m2_runs, english_text):
    """AC: the prompt's emitted bits fix a prefix of it; generation starts right after that prefix."""
    run, flags = m2_runs
    generator = Generator(run("AC[v=256]"), flags, CODING)
    prompt = english_text[:14]
    result = generator.generate(prompt, 30, Sampling(seed=3))
    assert result.prompt_tokens > 0 and result.prompt_text and prompt.startswith(result.prompt_text)
    assert len(result.text) > 0


def test_gzip_counts_a_sampled_stream_zlib_rejects(m2_runs):
    run, flags = m2_runs
    generator = Generator(run("GZip[v=256]"), flags, CODING)
    stops = {generator.generate(b"", 200, Sampling(seed=seed, temperature=2.0)).stop for seed in range(4)}
    assert STOP_INVALID_STREAM in stops  # a hot sampler breaks the stream: counted, not raised
    result = next(
        r
        for r in (generator.generate(b"", 200, Sampling(seed=s, temperature=2.0)) for s in range(4))
        if r.stop == STOP_INVALID_STREAM
    )
    assert result.dropped_windows == 1


def test_sampling_is_greedy_at_temperature_zero_and_top_k_limits_the_choice():
    logits = np.array([0.0, 3.0, 1.0, 2.0])
    rng = np.random.default_rng(0)
    assert sample_token(logits, Sampling(temperature=0), rng) == 1
    drawn = {sample_token(logits, Sampling(top_k=2, seed=0), rng) for _ in range(200)}
    assert drawn == {1, 3}
    with pytest.raises(ValueError, match="--temperature"):
        Sampling(temperature=-1)


def test_errors_name_the_bad_flag_or_value(models, m2_runs, tmp_path, capsys):
    run, _ = m2_runs
    assert main(["generate", "--m2", str(run("AC[v=256]")), "--prompt", "x"]) == EXIT_ERROR
    assert "needs --m1" in capsys.readouterr().err
    assert _cli(models, tmp_path / "missing") == EXIT_ERROR
    assert "not a training run" in capsys.readouterr().err
    assert _cli(models, run("Bytes"), "--prompt", "x" * SEQ_LEN) == EXIT_ERROR
    assert "M2's context holds 32" in capsys.readouterr().err
    assert _cli(models, run("Bytes"), "--max-bytes", "0") == EXIT_ERROR
    assert "--max-bytes must be positive" in capsys.readouterr().err


def test_max_steps_ends_a_generation_after_that_many_decoder_steps(m2_runs):
    run, flags = m2_runs
    out = Generator(run("EqualInfoAC[b=16;v=256]"), flags, CODING).generate(b"", 10**9, max_steps=3)
    assert out.steps == 3 and out.stop == STOP_MAX_STEPS


def test_latency_table_measures_every_run_and_draws_the_measured_figure_4(m2_runs, tmp_path):
    run, flags = m2_runs
    run_dirs = [run("Bytes"), run("EqualInfoAC[b=16;v=256]")]
    for i, run_dir in enumerate(run_dirs):  # what the workflow's evaluation writes beside the run
        (run_dir / "eval.json").write_text(json.dumps({"bits_per_byte": 3.0 + i, "compression_ratio": 1.0 + i}))
    paths = [tmp_path / name for name in ("fig04_measured.csv", "fig04.pdf", "fig04.png")]
    options = GenerationOptions.from_config({"seeds": [0, 1], "steps": 3})
    write_latency_figure(run_dirs, flags, CODING, options, *paths)
    table = pd.read_csv(paths[0]).set_index("method")
    assert list(table.index) == ["Bytes", "EqualInfoAC[b=16;v=256]"]
    assert (table["size"] == "s0").all() and (table["steps"] == 6).all()  # 3 steps for each of 2 seeds
    assert (table["stops"] == STOP_MAX_STEPS).all()
    assert table.loc["Bytes", "bytes_per_step"] == 1.0  # a Bytes token is one byte
    assert (table["bytes_per_step"] == table["bytes"] / table["steps"]).all()
    assert table.loc["EqualInfoAC[b=16;v=256]", "decode_ms_per_byte"] > 0  # M1 decodes its windows
    assert list(table["compression_ratio"]) == [1.0, 2.0]
    assert all(path.stat().st_size > 0 for path in paths[1:])
