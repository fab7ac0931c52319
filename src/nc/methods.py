"""Names of the tokenisation / compression methods, shared by every part of nc.

A method is identified three ways:

* ``MethodSpec``: the structured value every function takes;
* a *label* in the paper's notation, e.g. ``EqualInfoAC[b=16;v=65k]``, ``AC[v=256]``,
  ``GZip[v=256;noheader]``, ``EqualInfoAC[b=16;v=256;delay]``, ``EqualInfoAC[b=16;v=256;reset=2]``;
* a *slug* safe for file names and Snakemake wildcards, e.g. ``eqinfo-b16-v65k``, ``ac-v256``,
  ``gzip-v256-noheader``, ``eqinfo-b16-v256-delay``, ``eqinfo-b16-v256-reset2``.

``parse_method`` accepts either form; ``spec.label`` and ``spec.slug`` give them back, so
``parse_method(spec.label) == parse_method(spec.slug) == spec``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("Bytes", "SentencePiece", "AC", "StaticAC", "EqualInfoAC", "GZip")
# Methods whose compression runs the byte-level model M1 (their FLOPs/byte include M1's cost).
M1_KINDS = ("AC", "EqualInfoAC")
# Methods whose output is an arbitrary bitstream chunked into tokens of ``token_bits`` bits.
BITSTREAM_KINDS = ("AC", "StaticAC", "EqualInfoAC", "GZip")

_SLUG_KIND = {
    "Bytes": "bytes",
    "SentencePiece": "sentencepiece",
    "AC": "ac",
    "StaticAC": "staticac",
    "EqualInfoAC": "eqinfo",
    "GZip": "gzip",
}
_KIND_OF_SLUG = {v: k for k, v in _SLUG_KIND.items()}
SLUG_PATTERN = r"[a-z][a-z0-9-]*"


@dataclass(frozen=True)
class MethodSpec:
    """One compression / tokenisation setting.

    kind: one of ``KINDS``.
    token_bits: bits per M2 token for bitstream methods (vocabulary 2**token_bits); 8 for Bytes;
        None for SentencePiece (its vocabulary comes from the trained tokenizer).
    window_bits: Equal-Info window size b (EqualInfoAC only).
    delay: A.5 variant: never end a window on a symbol that only added zero bits (EqualInfoAC only).
    m1_reset: reset M1's context every ``m1_reset``-th window; 1 = every window (the paper's
        default), 0 = never (EqualInfoAC only; Appendix A.2).
    gzip_header: keep the zlib header and Adler-32 footer (GZip only; Appendix A.4).
    """

    kind: str
    token_bits: int | None = 8
    window_bits: int | None = None
    delay: bool = False
    m1_reset: int = 1
    gzip_header: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown method kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "SentencePiece":
            if self.token_bits is not None:
                raise ValueError("SentencePiece takes no token_bits (its vocabulary is the tokenizer's)")
        elif self.kind == "Bytes":
            if self.token_bits != 8:
                raise ValueError("Bytes uses 8-bit tokens")
        elif self.token_bits is None or not 1 <= self.token_bits <= 16:
            raise ValueError(f"{self.kind}: token_bits must be an integer in 1..16, got {self.token_bits!r}")
        if self.kind == "EqualInfoAC":
            if self.window_bits is None or self.window_bits < 1:
                raise ValueError(f"EqualInfoAC needs a positive window_bits, got {self.window_bits!r}")
            if self.m1_reset < 0:
                raise ValueError(f"m1_reset must be >= 0 (0 = never), got {self.m1_reset}")
        else:
            if self.window_bits is not None or self.delay or self.m1_reset != 1:
                raise ValueError(f"{self.kind} takes no window_bits / delay / m1_reset")
        if self.kind != "GZip" and not self.gzip_header:
            raise ValueError("gzip_header=False only applies to GZip")

    # ----------------------------------------------------------------- properties
    @property
    def vocab_size(self) -> int | None:
        """M2 vocabulary size, or None for SentencePiece (ask the tokenizer)."""
        return None if self.token_bits is None else 2**self.token_bits

    @property
    def fixed_token_bits(self) -> int:
        """``token_bits`` of a method with fixed-width tokens (every kind but SentencePiece)."""
        if self.token_bits is None:
            raise ValueError(f"{self.label} has no fixed token width (its vocabulary is the tokenizer's)")
        return self.token_bits

    @property
    def fixed_vocab_size(self) -> int:
        """``vocab_size`` of a method with fixed-width tokens (every kind but SentencePiece)."""
        return 2**self.fixed_token_bits

    @property
    def fixed_window_bits(self) -> int:
        """``window_bits`` of an EqualInfoAC method."""
        if self.window_bits is None:
            raise ValueError(f"{self.label} has no Equal-Info windows")
        return self.window_bits

    @property
    def uses_m1(self) -> bool:
        return self.kind in M1_KINDS

    @property
    def m1_sees_whole_example(self) -> bool:
        """True when M1's context is the whole example (AC; EqualInfoAC that never resets M1), so every
        coding step runs M1 over the example's full length rather than over one window."""
        return self.kind == "AC" or (self.kind == "EqualInfoAC" and self.m1_reset == 0)

    @property
    def is_bitstream(self) -> bool:
        return self.kind in BITSTREAM_KINDS

    @property
    def label(self) -> str:
        """The paper's notation, e.g. ``EqualInfoAC[b=16;v=65k]``."""
        if self.kind in ("Bytes", "SentencePiece"):
            return self.kind
        parts = []
        if self.window_bits is not None:
            parts.append(f"b={self.window_bits}")
        parts.append(f"v={_vocab_text(self.token_bits)}")
        if self.delay:
            parts.append("delay")
        if self.m1_reset != 1:
            parts.append("reset=never" if self.m1_reset == 0 else f"reset={self.m1_reset}")
        if not self.gzip_header:
            parts.append("noheader")
        return f"{self.kind}[{';'.join(parts)}]"

    @property
    def paper_label(self) -> str:
        """The label as the paper's value tables (shared/paper/values) spell it."""
        if self.kind == "EqualInfoAC" and self.delay and self.m1_reset == 1:
            return f"EqualInfoAC[b={self.window_bits};v={_vocab_text(self.token_bits)}] Delay"
        return self.label

    @property
    def slug(self) -> str:
        """File-name-safe form, e.g. ``eqinfo-b16-v65k``."""
        if self.kind in ("Bytes", "SentencePiece"):
            return _SLUG_KIND[self.kind]
        parts = [_SLUG_KIND[self.kind]]
        if self.window_bits is not None:
            parts.append(f"b{self.window_bits}")
        parts.append(f"v{_vocab_text(self.token_bits)}")
        if self.delay:
            parts.append("delay")
        if self.m1_reset != 1:
            parts.append("resetnever" if self.m1_reset == 0 else f"reset{self.m1_reset}")
        if not self.gzip_header:
            parts.append("noheader")
        return "-".join(parts)

    def __str__(self) -> str:
        return self.label


# Section 3.3: the range coder's precision in every experiment of the paper (the coder's default).
PAPER_PRECISION = 14

# The M2 variant of the main runs (the others: bytematched, the seq2seq ones), in run paths and summaries.
DEFAULT_VARIANT = "default"

# Token widths of the paper's two vocabularies.
V256_BITS, V65K_BITS = 8, 16

# The paper's methods built from their fields: code that selects runs or rows (the analysis) names methods
# with these, and compares MethodSpecs or their ``paper_label``s, never hand-written labels.
BYTES = MethodSpec("Bytes")
SENTENCEPIECE = MethodSpec("SentencePiece", token_bits=None)


def ac(token_bits: int = V256_BITS) -> MethodSpec:
    """``AC[v=2**token_bits]``."""
    return MethodSpec("AC", token_bits)


def static_ac(token_bits: int = V256_BITS) -> MethodSpec:
    """``StaticAC[v=2**token_bits]``."""
    return MethodSpec("StaticAC", token_bits)


def gzip(token_bits: int = V256_BITS, *, header: bool = True) -> MethodSpec:
    """``GZip[v=2**token_bits]`` (``;noheader`` without the zlib header and footer)."""
    return MethodSpec("GZip", token_bits, gzip_header=header)


def equal_info(
    window_bits: int = 16, token_bits: int = V256_BITS, *, delay: bool = False, m1_reset: int = 1
) -> MethodSpec:
    """``EqualInfoAC[b=window_bits;v=2**token_bits]`` and its variants."""
    return MethodSpec("EqualInfoAC", token_bits, window_bits, delay=delay, m1_reset=m1_reset)


def _vocab_text(token_bits: int | None) -> str:
    if token_bits is None:
        raise ValueError("no vocabulary for this method")
    return "65k" if token_bits == 16 else str(2**token_bits)


def _token_bits_of(vocab: str) -> int:
    v = 65536 if vocab.lower() == "65k" else int(vocab)
    bits = v.bit_length() - 1
    if v < 2 or 2**bits != v:
        raise ValueError(f"vocabulary {vocab!r} is not a power of two >= 2")
    return bits


_LABEL_RE = re.compile(r"^(?P<kind>[A-Za-z]+)(?:\[(?P<opts>[^\]]*)\])?(?P<delay> Delay)?$")


def parse_method(text: str) -> MethodSpec:
    """Parse a label (``EqualInfoAC[b=16;v=65k]``) or a slug (``eqinfo-b16-v65k``).

    Raises ValueError naming the offending part on anything it does not understand.
    """
    text = text.strip()
    if re.fullmatch(SLUG_PATTERN, text):
        return _parse_slug(text)
    m = _LABEL_RE.match(text)
    if not m or m.group("kind") not in KINDS:
        raise ValueError(f"cannot parse method {text!r}: expected e.g. 'EqualInfoAC[b=16;v=256]' or 'eqinfo-b16-v256'")
    kind = m.group("kind")
    fields: dict = {"kind": kind}
    if kind == "SentencePiece":
        fields["token_bits"] = None
    for opt in filter(None, (o.strip() for o in re.split(r"[;,]", m.group("opts") or ""))):
        key, _, value = opt.partition("=")
        key = key.strip().lower()
        if key == "b":
            fields["window_bits"] = int(value)
        elif key == "v":
            fields["token_bits"] = _token_bits_of(value.strip())
        elif key == "delay" and not value:
            fields["delay"] = True
        elif key == "reset":
            fields["m1_reset"] = 0 if value.strip() == "never" else int(value)
        elif key == "noheader" and not value:
            fields["gzip_header"] = False
        else:
            raise ValueError(f"cannot parse method {text!r}: unknown option {opt!r}")
    if m.group("delay"):
        fields["delay"] = True
    return MethodSpec(**fields)


def _parse_slug(slug: str) -> MethodSpec:
    head, *rest = slug.split("-")
    if head not in _KIND_OF_SLUG:
        raise ValueError(f"cannot parse method slug {slug!r}: unknown kind {head!r}")
    kind = _KIND_OF_SLUG[head]
    fields: dict = {"kind": kind}
    if kind == "SentencePiece":
        fields["token_bits"] = None
    for part in rest:
        if re.fullmatch(r"b\d+", part):
            fields["window_bits"] = int(part[1:])
        elif re.fullmatch(r"v(65k|\d+)", part):
            fields["token_bits"] = _token_bits_of(part[1:])
        elif part == "delay":
            fields["delay"] = True
        elif part == "resetnever":
            fields["m1_reset"] = 0
        elif re.fullmatch(r"reset\d+", part):
            fields["m1_reset"] = int(part[5:])
        elif part == "noheader":
            fields["gzip_header"] = False
        else:
            raise ValueError(f"cannot parse method slug {slug!r}: unknown part {part!r}")
    return MethodSpec(**fields)
