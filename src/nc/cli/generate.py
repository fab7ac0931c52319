"""``nc generate``: sample text from a trained M2 through its method, streamed as it decodes (docs/CLI.md).

The prompt is encoded with the M2's method; M2 samples tokens one decoder step at a time (temperature,
top-k, a seeded generator); each token is turned back into text as soon as the text is determined:

* Bytes: every token is a byte. SentencePiece: text up to the last piece that is not a byte piece
  (a UTF-8 character spelled in byte pieces is shown once complete).
* AC / StaticAC: the bytes every continuation of the sampled bits decodes to (M1 decodes byte by byte).
  The prompt conditions M2 through its whole tokens; its last bytes, not yet fixed by them, are sampled
  again (``Generation.prompt_text`` is the part the context fixes).
* EqualInfoAC: each sampled window as soon as its bits are complete, with the D.5 look-ahead rule. A
  window no text encodes to is dropped and counted (``dropped_windows``); the prompt's windows are its own.
* GZip: what zlib yields from the whole bytes so far; a stream zlib rejects ends the generation (counted).

M2 runs without a cache of past keys and values: each step evaluates M2's whole context (``seq_len``
positions), so an M2 step costs the same at every position and per byte as one over bytes per step.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from nc.analysis.figures import fig04_measured_bytes_per_step, save_figure
from nc.analysis.options import GenerationOptions
from nc.cli.codec import Coder, Models, load_coder
from nc.coding import bits_to_tokens, encode_examples, gzip_compress, tokens_to_bits
from nc.coding.api import call_source
from nc.coding.decoders import run_lockstep
from nc.coding.gzip import FOOTER_BYTES
from nc.coding.streaming import (
    DecodedWindow,
    GzipStreamDecoder,
    PrefixStreamDecoder,
    WindowStreamDecoder,
    context_ladder,
)
from nc.coding.windows import default_max_window_symbols
from nc.io import write_text
from nc.methods import MethodSpec, parse_method
from nc.sections import CodingConfig
from nc.train.run import load_trained

STOP_MAX_BYTES = "max_bytes"  # the text reached --max-bytes
STOP_CONTEXT = "context_full"  # M2's context (seq_len tokens) is full
STOP_MAX_STEPS = "max_steps"  # the generation took its most decoder steps
STOP_STREAM_END = "stream_end"  # GZip: the sampled stream's last block ended
STOP_INVALID_STREAM = "invalid_stream"  # GZip: zlib rejects the sampled stream


@dataclass(frozen=True)
class Sampling:
    """How M2 tokens are drawn: ``temperature`` 0 is greedy; ``top_k`` 0 keeps every token."""

    temperature: float = 1.0
    top_k: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"--temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"--top-k must be >= 0, got {self.top_k}")


def sample_token(logits: np.ndarray, sampling: Sampling, rng: np.random.Generator) -> int:
    """One token id from ``logits`` [vocab] (float64 on the host, so a seed gives the same tokens)."""
    z = np.asarray(logits, dtype=np.float64)
    if sampling.temperature == 0:
        return int(np.argmax(z))
    z = z / sampling.temperature
    if 0 < sampling.top_k < z.size:
        kth = np.partition(z, -sampling.top_k)[-sampling.top_k]
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max())
    return int(rng.choice(z.size, p=p / p.sum()))


class M2Model:
    """A trained M2 (``train_lm`` run) evaluated in float32: next-token logits of a token prefix."""

    def __init__(self, run_dir: str | Path):
        run = load_trained(run_dir, dtype="float32")
        if not run.config.get("method"):
            raise ValueError(f"{run_dir} records no method in config.json: not an M2 run")
        self.method: MethodSpec = parse_method(run.config["method"])
        self.size: str = run.config["size"]
        self.seq_len = int(run.config["seq_len"])
        self.vocab_size = int(run.config["vocab_size"])
        self.step = run.step
        model, params = run.model, run.params
        self._next = jax.jit(lambda p, x, n: cast(jnp.ndarray, model.apply({"params": p}, x))[0, n])
        self._params = params

    def next_logits(self, tokens: np.ndarray) -> np.ndarray:
        """Logits [vocab_size] of the token after ``tokens`` (fewer than ``seq_len`` of them)."""
        padded = np.zeros((1, self.seq_len), dtype=np.int32)
        padded[0, : len(tokens)] = tokens
        return np.asarray(self._next(self._params, jnp.asarray(padded), len(tokens)))


# ------------------------------------------------------------------------------------ text decoders
class _TextDecoder:
    """Tokens in, determined text out: ``text`` (prompt part included), ``ended``, ``dropped``."""

    @property
    def ended(self) -> bool:
        return False

    @property
    def dropped(self) -> int:
        return 0

    @property
    def windows(self) -> list[DecodedWindow]:
        return []

    def push(self, token: int) -> None:
        raise NotImplementedError

    @property
    def text(self) -> bytes:
        raise NotImplementedError

    def final_text(self) -> bytes:
        return self.text


class _BytesText(_TextDecoder):
    def __init__(self, prompt: bytes):
        self.out = bytearray(prompt)

    def push(self, token: int) -> None:
        self.out.append(token)

    @property
    def text(self) -> bytes:
        return bytes(self.out)


class _PieceText(_TextDecoder):
    def __init__(self, coder: Coder, ids: np.ndarray):
        assert coder.tokenizer is not None
        self.tokenizer = coder.tokenizer
        self.ids = [int(i) for i in ids]
        self._stable = self._stable_end()

    def _stable_end(self) -> int:
        processor = self.tokenizer.processor
        end = len(self.ids)
        while end and processor.is_byte(self.ids[end - 1]):
            end -= 1
        return end

    def push(self, token: int) -> None:
        self.ids.append(token)
        self._stable = self._stable_end()

    @property
    def text(self) -> bytes:
        return self.tokenizer.decode(np.asarray(self.ids[: self._stable]))

    def final_text(self) -> bytes:
        return self.tokenizer.decode(np.asarray(self.ids))


class _BitText(_TextDecoder):
    """A bitstream method: tokens become bits; the stream decoder says what text they determine."""

    def __init__(self, coder: Coder, stream, window_bits: int | None = None):
        self.coder, self.stream, self.window_bits = coder, stream, window_bits
        self.pending = np.zeros(0, dtype=np.uint8)

    def push(self, token: int) -> None:
        width = self.coder.method.fixed_token_bits
        bits = tokens_to_bits(np.asarray([token]), width, width)
        self.push_bits(bits)

    def push_bits(self, bits: np.ndarray) -> None:
        if self.window_bits is None:
            self.stream.push(bits)
        else:
            self.pending = np.concatenate([self.pending, bits])
            while self.pending.size >= self.window_bits:
                self.stream.push(self.pending[: self.window_bits])
                self.pending = self.pending[self.window_bits :]
        if not isinstance(self.stream, GzipStreamDecoder):
            run_lockstep([self.stream], self.coder.source, call_source)

    @property
    def text(self) -> bytes:
        return bytes(self.stream.out)

    @property
    def ended(self) -> bool:
        return isinstance(self.stream, GzipStreamDecoder) and self.stream.ended

    @property
    def dropped(self) -> int:
        if isinstance(self.stream, GzipStreamDecoder):
            return int(self.stream.failed)
        return self.stream.dropped if isinstance(self.stream, WindowStreamDecoder) else 0

    @property
    def windows(self) -> list[DecodedWindow]:
        return self.stream.windows if isinstance(self.stream, WindowStreamDecoder) else []


def _stream_rungs(coder: Coder, max_length: int) -> tuple[int, ...]:
    return context_ladder(max_length, coder.coding.m1_length_step)


def prompt_decoder(coder: Coder, prompt: bytes, max_length: int) -> tuple[np.ndarray, _TextDecoder]:
    """(the prompt's tokens, a text decoder that has read them) for ``coder``'s method.

    ``max_length``: the longest text (prompt and generation) the M1 contexts must hold.
    """
    method = coder.method
    if method.kind == "Bytes":
        return np.frombuffer(prompt, dtype=np.uint8).astype(np.int64), _BytesText(prompt)
    if method.kind == "SentencePiece":
        assert coder.tokenizer is not None
        ids, _ = coder.tokenizer.encode(prompt)
        return ids, _PieceText(coder, ids)
    if method.kind == "EqualInfoAC":
        return _equal_info_prompt(coder, prompt, max_length)
    if method.kind == "GZip":
        return _gzip_prompt(coder, prompt)
    return _stream_prompt(coder, prompt, max_length)


def _equal_info_prompt(coder: Coder, prompt: bytes, max_length: int) -> tuple[np.ndarray, _TextDecoder]:
    method, coding = coder.method, coder.coding
    cap = default_max_window_symbols(method.fixed_window_bits)
    # The encoder's M1 calls: cap * m1_reset positions (reset=never: contexts as long as the text).
    rungs = (cap * method.m1_reset,) if method.m1_reset else _stream_rungs(coder, max_length)
    if prompt:
        encoded = encode_examples([prompt], method, coder.source, precision=coding.precision)[0]
        bits = tokens_to_bits(encoded.tokens, method.fixed_token_bits, encoded.num_bits)
        starts = tuple(int(s) for s in encoded.window_starts)  # type: ignore[union-attr]
    else:
        bits, starts = np.zeros(0, dtype=np.uint8), ()
    stream = WindowStreamDecoder(method, coding.precision, cap, rungs, prompt, starts)
    decoder = _BitText(coder, stream, method.fixed_window_bits)
    whole = bits.size // method.fixed_token_bits * method.fixed_token_bits
    decoder.pending = bits[whole:]  # a window that ends inside a token waits for the token's rest
    return bits_to_tokens(bits[:whole], method.fixed_token_bits), decoder


def _stream_prompt(coder: Coder, prompt: bytes, max_length: int) -> tuple[np.ndarray, _TextDecoder]:
    """AC / StaticAC: the whole tokens of the bits the coder emitted for the prompt (not its termination),
    which every text that starts with the prompt shares."""
    method, coding = coder.method, coder.coding
    stream = PrefixStreamDecoder(coding.precision, _stream_rungs(coder, max_length))
    decoder = _BitText(coder, stream)
    if not prompt:
        return np.zeros(0, dtype=np.int64), decoder
    encoded = encode_examples([prompt], method, coder.source, precision=coding.precision)[0]
    assert encoded.emitted_bits is not None
    kept = encoded.emitted_bits // method.fixed_token_bits
    tokens = np.asarray(encoded.tokens[:kept])
    # The encoder's rows came from one call over the whole prompt; rows of other lengths can differ in
    # the last float bit, and so quantise differently.
    assert coder.source is not None
    stream.know_rows(prompt, call_source(coder.source, np.frombuffer(prompt, dtype=np.uint8)[None])[0])
    decoder.push_bits(tokens_to_bits(tokens, method.fixed_token_bits, tokens.size * method.fixed_token_bits))
    return tokens, decoder


def _gzip_prompt(coder: Coder, prompt: bytes) -> tuple[np.ndarray, _TextDecoder]:
    """GZip: the most whole tokens of the prompt's stream that leave its last block open."""
    method = coder.method
    decoder = _BitText(coder, GzipStreamDecoder(method.gzip_header))
    if not prompt:
        return np.zeros(0, dtype=np.int64), decoder
    stream = gzip_compress(prompt, method.gzip_header)
    if method.gzip_header:
        stream = stream[:-FOOTER_BYTES]
    bits = np.unpackbits(np.frombuffer(stream, dtype=np.uint8))
    width = method.fixed_token_bits
    for kept in range(bits.size // width, -1, -1):
        trial = GzipStreamDecoder(method.gzip_header)
        trial.push(bits[: kept * width])
        if not trial.ended:
            break
    decoder.push_bits(bits[: kept * width])
    return bits_to_tokens(bits[: kept * width], width), decoder


# ------------------------------------------------------------------------------------------ generate
@dataclass
class Generation:
    """What one ``generate`` call produced and what it cost.

    prompt_text: the prompt text M2's context fixes (all of it but for AC, StaticAC, GZip: a prefix);
    text: generated bytes, after ``prompt_text``;
    steps: M2 decoder steps (sampled tokens); m2_s / decode_s: wall time of M2 steps (forward and
    sampling) and of turning tokens into text (M1 decoding); dropped_windows: sampled windows (GZip:
    a stream) no text encodes to; stop: why generation ended (``STOP_*``).
    """

    method: str
    prompt_tokens: int
    prompt_text: bytes
    text: bytes = b""
    tokens: list[int] = field(default_factory=list)
    windows: list[DecodedWindow] = field(default_factory=list)
    dropped_windows: int = 0
    m2_s: float = 0.0
    decode_s: float = 0.0
    stop: str = STOP_MAX_BYTES

    @property
    def steps(self) -> int:
        return len(self.tokens)

    @property
    def bytes_per_step(self) -> float:
        return len(self.text) / self.steps if self.steps else 0.0


class Generator:
    """An M2 with its method's coder: ``generate`` calls share the loaded models and compiled calls."""

    def __init__(self, m2_dir: str | Path, models: Models, coding: CodingConfig):
        self.m2 = M2Model(m2_dir)
        self.coder = load_coder(self.m2.method, models, coding)
        expected = self.coder.token_bits if self.m2.method.is_bitstream else None
        if expected is not None and self.m2.vocab_size != 2**expected:
            raise ValueError(
                f"{m2_dir}: M2 has vocab_size {self.m2.vocab_size}, {self.m2.method.label} needs {2**expected}"
            )

    def generate(
        self,
        prompt: bytes,
        max_bytes: int,
        sampling: Sampling = Sampling(),
        on_text: Callable[[bytes], None] | None = None,
        max_steps: int | None = None,
    ) -> Generation:
        """Sample up to ``max_bytes`` bytes after ``prompt`` in at most ``max_steps`` decoder steps (None: until
        M2's context is full); ``on_text`` receives each new piece of text."""
        if max_bytes < 1:
            raise ValueError(f"--max-bytes must be positive, got {max_bytes}")
        # Generous bound on the text M1 may be asked to hold (bytes a window or token can spell).
        max_length = len(prompt) + max_bytes + 2 * self.m2.seq_len * max(1, self.coder.token_bits)
        prompt_tokens, decoder = prompt_decoder(self.coder, prompt, max_length)
        if len(prompt_tokens) >= self.m2.seq_len:
            label, seq_len = self.m2.method.label, self.m2.seq_len
            raise ValueError(f"the prompt is {len(prompt_tokens)} {label} tokens; M2's context holds {seq_len}")
        start = len(decoder.text)
        out = Generation(self.m2.method.label, len(prompt_tokens), decoder.text)
        tokens = list(int(t) for t in prompt_tokens)
        rng = np.random.default_rng(sampling.seed)
        while True:
            if len(tokens) >= self.m2.seq_len:
                out.stop = STOP_CONTEXT
                break
            if max_steps is not None and out.steps >= max_steps:
                out.stop = STOP_MAX_STEPS
                break
            t0 = time.perf_counter()
            token = sample_token(self.m2.next_logits(np.asarray(tokens)), sampling, rng)
            t1 = time.perf_counter()
            decoder.push(token)
            out.decode_s += time.perf_counter() - t1
            out.m2_s += t1 - t0
            tokens.append(token)
            out.tokens.append(token)
            if self._emit(out, decoder.text[start:], max_bytes, on_text):
                break
            if decoder.ended:
                out.stop = STOP_INVALID_STREAM if decoder.dropped else STOP_STREAM_END
                break
        if out.stop != STOP_MAX_BYTES:
            self._emit(out, decoder.final_text()[start:], max_bytes, on_text)
        out.windows, out.dropped_windows = list(decoder.windows), decoder.dropped
        return out

    @staticmethod
    def _emit(out: Generation, text: bytes, max_bytes: int, on_text) -> bool:
        """Hand on what ``text`` adds to ``out.text`` (cut at ``max_bytes``); True once it is reached."""
        if len(text) > len(out.text) and text.startswith(out.text):
            new = text[len(out.text) : max_bytes]
            out.text += new
            if on_text is not None and new:
                on_text(new)
        return len(out.text) >= max_bytes


def measure_generation(
    generator: Generator, seeds: list[int], temperature: float, max_steps: int | None = None
) -> dict:
    """Totals over one generation per seed from an empty prompt until M2's context is full (or for
    ``max_steps`` steps), after one untimed warm-up generation of the same length (so compilation is not
    counted): M2 steps, generated bytes, bytes/step, ms per M2 step, and per generated byte the ms of M2
    steps, of decoding (M1 for AC / EqualInfoAC) and in all; windows no text encodes to."""

    def sample(seed: int) -> Generation:
        return generator.generate(b"", 10**9, Sampling(temperature=temperature, seed=seed), max_steps=max_steps)

    sample(10_000)
    rows = [sample(seed) for seed in seeds]
    steps = sum(r.steps for r in rows)
    generated = sum(len(r.text) for r in rows)
    m2_s, decode_s = sum(r.m2_s for r in rows), sum(r.decode_s for r in rows)
    per_byte = 1e3 / max(1, generated)
    return {
        "steps": steps,
        "bytes": generated,
        "bytes_per_step": generated / max(1, steps),
        "m2_ms_per_step": 1e3 * m2_s / max(1, steps),
        "m2_ms_per_byte": m2_s * per_byte,
        "decode_ms_per_byte": decode_s * per_byte,
        "ms_per_byte": (m2_s + decode_s) * per_byte,
        "dropped_windows": sum(r.dropped_windows for r in rows),
        "stops": ",".join(sorted({r.stop for r in rows})),
    }


def latency_table(
    run_dirs: list[str | Path],
    models: Models,
    coding: CodingConfig,
    seeds: list[int],
    temperature: float = 1.0,
    on_row: Callable[[dict], None] | None = None,
    max_steps: int | None = None,
) -> pd.DataFrame:
    """One row per trained M2 run (``measure_generation``) with its method, size, and the bits/byte and
    token compression ratio of its evaluation (``eval.json``): the measured Figure 4's data.
    ``on_row`` receives each row as it is measured; ``max_steps``: decoder steps per generation at most."""
    rows = []
    for run_dir in map(Path, run_dirs):
        generator = Generator(run_dir, models, coding)
        evaluation = json.loads((run_dir / "eval.json").read_text(encoding="utf-8"))
        row = {
            "method": generator.m2.method.label,
            "size": generator.m2.size,
            **measure_generation(generator, seeds, temperature, max_steps),
            "bits_per_byte": evaluation["bits_per_byte"],
            "compression_ratio": evaluation["compression_ratio"],
        }
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return pd.DataFrame(rows)


def write_latency_figure(
    run_dirs: list[str | Path],
    models: Models,
    coding: CodingConfig,
    generation: GenerationOptions,
    table_path: str | Path,
    pdf_path: str | Path,
    png_path: str | Path,
) -> pd.DataFrame:
    """The measured Figure 4 (rule generation_latency): ``latency_table`` of ``run_dirs``, saved by
    ``save_latency_figure``."""
    log = logging.getLogger(__name__)

    def report(row: dict) -> None:
        log.info("%s: %.2f bytes/step, %.2f ms/byte", row["method"], row["bytes_per_step"], row["ms_per_byte"])

    table = latency_table(
        run_dirs, models, coding, list(generation.seeds), generation.temperature, report, generation.steps
    )
    save_latency_figure(table, table_path, pdf_path, png_path)
    return table


def save_latency_figure(
    table: pd.DataFrame, table_path: str | Path, pdf_path: str | Path, png_path: str | Path
) -> None:
    """``latency_table``'s ``table`` written as CSV to ``table_path`` and drawn as the measured Figure 4
    (``fig04_measured_bytes_per_step``) to ``pdf_path`` and ``png_path``."""
    write_text(table_path, table.to_csv(index=False))
    save_figure(fig04_measured_bytes_per_step(table), pdf_path, png_path)
