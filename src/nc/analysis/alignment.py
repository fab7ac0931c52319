"""Character / bit / token alignment inside Equal-Info windows (Section 6.1, Figure 9, Appendix C).

Within a window of W bits cut into K = W / T tokens of T bits, byte i of the window owns the bit span
``[end[i-1], end[i])``, where ``end[i]`` is the number of window bits fixed once bytes up to and
including i are coded (``end[-1] = 0`` at the window start). Bits from the last byte's end up to W
are the coder's termination and zero padding. A byte contributes to every token its span overlaps; a byte
that adds no bits is decodable from the bits already written, so it belongs to the token holding
the last of them (bit ``end[i-1] - 1``; token 1 when the window is still empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nc.analysis.token_text import save_figure
from nc.coding import encode_examples, tokens_to_bits
from nc.data.shards import ExampleSplit
from nc.methods import equal_info, parse_method
from nc.sections import CodingConfig
from nc.train.run import load_coding_source

# Colours of Figure 9: first token, second token, both.
ROLE_COLOURS = {"first": "#1f77b4", "second": "#d62728", "both": "#9467bd", "other": "#7f7f7f"}


@dataclass(frozen=True)
class WindowAlignment:
    """Bit spans and token membership of the bytes of one window.

    byte_start: offset of the window's first byte in the example.
    text: the window's bytes.
    bit_spans: [n, 2] int, each byte's [start, end) bits within the window.
    tokens: [K] the window's token ids.
    token_of_byte: [n, K] bool, True where the byte contributes to that token.
    window_bits / token_bits: W and T.
    """

    byte_start: int
    text: bytes
    bit_spans: np.ndarray
    tokens: np.ndarray
    token_of_byte: np.ndarray
    window_bits: int
    token_bits: int

    def roles(self) -> list[str]:
        """Per byte: "first" / "second" / "both" (two-token windows), else "tokens 1+2+..."."""
        out = []
        for row in self.token_of_byte:
            idx = np.flatnonzero(row)
            if self.token_of_byte.shape[1] == 2:
                out.append("both" if len(idx) == 2 else ("first" if idx[0] == 0 else "second"))
            else:
                out.append("tokens " + "+".join(str(i + 1) for i in idx))
        return out


def byte_bit_spans(window_bit_ends: np.ndarray, window_bits: int) -> np.ndarray:
    """[n, 2] bit spans from the cumulative per-byte bit ends of one window."""
    ends = np.asarray(window_bit_ends, dtype=np.int64)
    if ends.ndim != 1:
        raise ValueError(f"bit ends must be 1-D, got shape {ends.shape}")
    if ends.size and (ends[0] < 0 or np.any(np.diff(ends) < 0) or ends[-1] > window_bits):
        raise ValueError(f"bit ends must be non-decreasing within [0, {window_bits}], got {ends.tolist()}")
    starts = np.concatenate([[0], ends[:-1]]) if ends.size else ends
    return np.stack([starts, ends], axis=1)


def tokens_of_spans(bit_spans: np.ndarray, window_bits: int, token_bits: int) -> np.ndarray:
    """[n, K] bool: which of the window's K tokens each byte's bit span touches (see module doc)."""
    if token_bits < 1 or window_bits % token_bits:
        raise ValueError(f"window_bits {window_bits} is not a multiple of token_bits {token_bits}")
    k = window_bits // token_bits
    spans = np.asarray(bit_spans, dtype=np.int64).reshape(-1, 2)
    start, end = spans[:, 0], spans[:, 1]
    token_lo = np.arange(k) * token_bits
    overlaps = (start[:, None] < token_lo[None, :] + token_bits) & (end[:, None] > token_lo[None, :])
    empty = start == end
    holder = np.clip(np.maximum(start - 1, 0) // token_bits, 0, k - 1)
    overlaps[empty] = False
    overlaps[np.flatnonzero(empty), holder[empty]] = True
    return overlaps


def align_windows(
    text: bytes,
    tokens: np.ndarray,
    window_starts: Sequence[int] | np.ndarray,
    byte_bit_ends: np.ndarray,
    *,
    window_bits: int,
    token_bits: int,
) -> list[WindowAlignment]:
    """Alignment of every window of one encoded example.

    ``byte_bit_ends[i]`` is the window-relative bit end of byte i of ``text`` (one entry per
    covered byte); window w covers bytes ``[window_starts[w], window_starts[w+1])`` and tokens
    ``[w*K, (w+1)*K)``.
    """
    starts = [int(s) for s in window_starts] + [len(byte_bit_ends)]
    k = window_bits // token_bits
    tokens = np.asarray(tokens)
    if len(tokens) < (len(starts) - 1) * k:
        raise ValueError(f"{len(tokens)} tokens cannot fill {len(starts) - 1} windows of {k} tokens")
    out = []
    for w in range(len(starts) - 1):
        lo, hi = starts[w], starts[w + 1]
        spans = byte_bit_spans(np.asarray(byte_bit_ends[lo:hi]), window_bits)
        out.append(
            WindowAlignment(
                byte_start=lo,
                text=bytes(text[lo:hi]),
                bit_spans=spans,
                tokens=tokens[w * k : (w + 1) * k],
                token_of_byte=tokens_of_spans(spans, window_bits, token_bits),
                window_bits=window_bits,
                token_bits=token_bits,
            )
        )
    return out


def split_byte_fraction(windows: Sequence[WindowAlignment]) -> float:
    """Share of windows with a byte whose bits are split across two tokens (Fig. 9's purple bytes)."""
    if not windows:
        raise ValueError("no windows")
    return float(np.mean([bool((w.token_of_byte.sum(axis=1) > 1).any()) for w in windows]))


def _glyph(byte: int) -> str:
    ch = chr(byte) if 32 < byte < 127 else {32: "\u2423", 10: "\\n"}.get(byte, f"x{byte:02x}")
    return ch.replace("$", r"\$")


def plot_alignment(windows: Sequence[WindowAlignment], bits: np.ndarray, *, title: str):
    """Figure 9: tokens (top), bits (middle), characters (bottom), one column block per window.

    ``bits``: the example's bitstream (0/1), window w at ``bits[w*W:(w+1)*W]``. Characters are
    spread evenly under their window and linked to the centre of their bit span; their colour says
    whether they feed the first token, the second, or both.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    if not windows:
        raise ValueError("no windows to draw")
    width = windows[0].window_bits
    gap = 2.0
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(windows) * width / 8), 3.6))
    for w, win in enumerate(windows):
        x0 = w * (width + gap)
        k = len(win.tokens)
        for t in range(k):
            ax.add_patch(Rectangle((x0 + t * win.token_bits, 2.2), win.token_bits, 0.7, fill=False, lw=1.2))
            ax.text(
                x0 + (t + 0.5) * win.token_bits, 2.55, str(int(win.tokens[t])), ha="center", va="center", fontsize=8
            )
        for b in range(width):
            ax.text(
                x0 + b + 0.5,
                1.6,
                str(int(bits[w * width + b])),
                ha="center",
                va="center",
                fontsize=6,
                family="monospace",
                color="black" if b < (win.bit_spans[-1, 1] if len(win.text) else 0) else "0.6",
            )
        ax.add_patch(Rectangle((x0, 1.3), width, 0.6, fill=False, lw=0.6, color="0.4"))
        n = len(win.text)
        for i, (byte, role) in enumerate(zip(win.text, win.roles())):
            cx = x0 + (i + 0.5) * width / max(n, 1)
            colour = ROLE_COLOURS.get(role, ROLE_COLOURS["other"])
            ax.text(
                cx,
                0.2,
                _glyph(byte),
                ha="center",
                va="center",
                fontsize=9,
                family="monospace",
                color="white",
                bbox=dict(boxstyle="round,pad=0.2", fc=colour, ec="none"),
            )
            s, e = win.bit_spans[i]
            ax.plot([cx, x0 + (s + e) / 2], [0.45, 1.3], color=colour, lw=0.7, alpha=0.8)
    ax.set_xlim(-0.5, len(windows) * (width + gap))
    ax.set_ylim(-0.3, 3.1)
    ax.axis("off")
    ax.legend(
        handles=[
            Patch(color=ROLE_COLOURS[r], label=f"{r} token" if r != "both" else "both tokens")
            for r in ("first", "second", "both")
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    ax.set_title(title, fontsize=10)
    return fig


def run_alignment_figure(
    *,
    valid_path: str | Path,
    m1_dir: str | Path,
    num_windows: int,
    figure: str | Path,
    coding: CodingConfig,
    method_label: str = equal_info(16).label,
) -> float:
    """Figure 9 for the first validation example, coded as the datasets are (``coding``); returns the share
    of its drawn windows with a split byte."""

    method = parse_method(method_label)
    examples = ExampleSplit(valid_path).read(0, 1)
    if not examples:
        raise ValueError(f"{valid_path}: no validation examples")
    window_bits, token_bits = method.fixed_window_bits, method.fixed_token_bits
    k = window_bits // token_bits
    (enc,) = encode_examples(
        [examples[0]],
        method,
        load_coding_source(m1_dir, coding),
        precision=coding.precision,
        max_tokens=num_windows * k,
        return_symbol_bits=True,
    )
    if enc.window_starts is None:
        raise ValueError(f"{method.label}: the encoding records no window starts")
    ends = window_relative_bit_ends(enc, window_bits)
    windows = align_windows(
        examples[0][: enc.num_bytes],
        enc.tokens,
        enc.window_starts,
        ends,
        window_bits=window_bits,
        token_bits=token_bits,
    )[:num_windows]
    bits = tokens_to_bits(enc.tokens, token_bits, len(enc.tokens) * token_bits)
    save_figure(plot_alignment(windows, bits, title=f"Character / bit / token alignment, {method.label}"), figure)
    return split_byte_fraction(windows)


def window_relative_bit_ends(encoded, window_bits: int) -> np.ndarray:
    """Per-byte window-relative bit ends of an EqualInfoAC ``Encoded`` made with ``return_symbol_bits=True``."""
    if encoded.symbol_end_bits is None:
        raise ValueError("encoding carries no per-byte bit ends: encode with return_symbol_bits=True")
    ends = np.asarray(encoded.symbol_end_bits, dtype=np.int64)
    if ends.size and ends.max() > window_bits:
        raise ValueError(f"symbol_end_bits exceed the window size {window_bits}: not window-relative")
    return ends
