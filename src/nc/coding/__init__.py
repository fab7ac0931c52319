"""Compression core: arithmetic coding, CDF quantisation, Equal-Info windows, StaticAC, GZip, tokens.

Public API (docs/CODING.md, docs/ARCHITECTURE.md):

* ``encode_examples`` / ``encode_example_chunks`` / ``decode_example`` / ``decode_examples`` and ``Encoded``;
  ``make_encoder`` and ``ContextPlan`` (context lengths M1 computes, ``nc.coding.engine``);
* arithmetic-coder primitives ``quantize_cdfs``, ``encode_with_cdfs``, ``decode_with_cdfs``,
  ``finished_bit_lengths``, ``encode_with_probs``;
* sources ``UnigramSource``, ``BigramSource``, ``fit_byte_unigram``, ``static_source``;
* ``bits_to_tokens`` / ``tokens_to_bits``; ``CorruptStreamError``.
"""

from nc.coding.api import (
    Encoded,
    decode_example,
    decode_examples,
    encode_example_chunks,
    encode_examples,
    make_encoder,
)
from nc.coding.arithmetic import (
    decode_with_cdfs,
    encode_with_cdfs,
    encode_with_probs,
    finished_bit_lengths,
    prefix_covered_symbols,
)
from nc.coding.engine import ContextPlan, plan_context_lengths
from nc.coding.errors import CorruptStreamError
from nc.coding.gzip import gzip_compress, gzip_prefix_bytes
from nc.coding.quantize import quantize_cdfs
from nc.coding.sideinfo import CHECKSUM_BITS
from nc.coding.sources import BigramSource, ProbabilitySource, UnigramSource
from nc.coding.static import fit_byte_unigram, static_source
from nc.coding.tokens import bits_to_tokens, tokens_to_bits
from nc.coding.windows import default_max_window_symbols

__all__ = [
    "CHECKSUM_BITS",
    "ContextPlan",
    "make_encoder",
    "plan_context_lengths",
    "BigramSource",
    "CorruptStreamError",
    "Encoded",
    "ProbabilitySource",
    "UnigramSource",
    "bits_to_tokens",
    "decode_example",
    "decode_examples",
    "decode_with_cdfs",
    "default_max_window_symbols",
    "encode_example_chunks",
    "encode_examples",
    "encode_with_cdfs",
    "encode_with_probs",
    "finished_bit_lengths",
    "fit_byte_unigram",
    "gzip_compress",
    "gzip_prefix_bytes",
    "prefix_covered_symbols",
    "quantize_cdfs",
    "static_source",
    "tokens_to_bits",
]
