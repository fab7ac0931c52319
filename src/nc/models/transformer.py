"""The decoder-only transformer shared by M1, M2 and the baselines (Sections 3.2 and 3.5, Table 4).

Architecture (T5 v1.1 style, as the paper's T5X models): token embedding -> ``num_layers`` pre-norm
blocks [RMSNorm -> causal multi-head self-attention with a per-layer learned relative position bias
-> residual; RMSNorm -> gated-ReLU MLP -> residual] -> final RMSNorm -> output projection.
No biases anywhere; the input embedding and the output projection are separate matrices.

Position 0 is predicted from a BOS input: the model reads ``tokens`` shifted right by one with
``bos_id = vocab_size`` in front, so the embedding has ``vocab_size + 1`` rows and the output
``vocab_size`` columns; ``logits[:, t]`` is the distribution of ``tokens[:, t]`` given ``tokens[:, :t]``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from nc.models.relative_bias import RelativePositionBias
from nc.models.sizes import ModelSize

# Parameter collections that are not "non-embedding" parameters (Table 4 excludes them).
EMBEDDING_PARAMS = ("token_embed", "output_proj")
_NEG_INF = -1e9


def shift_right(tokens: jnp.ndarray, bos_id: int) -> jnp.ndarray:
    """[B, T] -> [B, T]: BOS then tokens[:, :-1] (the model's inputs for teacher forcing)."""
    bos = jnp.full((tokens.shape[0], 1), bos_id, dtype=jnp.int32)
    return jnp.concatenate([bos, tokens[:, :-1].astype(jnp.int32)], axis=1)


def _dense(features: int, name: str, dtype: Any) -> nn.Dense:
    return nn.Dense(features, use_bias=False, dtype=dtype, param_dtype=jnp.float32, name=name)


class CausalSelfAttention(nn.Module):
    size: ModelSize
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        b, t, _ = x.shape
        heads, head_dim = self.size.num_heads, self.size.head_dim
        inner = heads * head_dim
        q, k, v = (_dense(inner, n, self.dtype)(x).reshape(b, t, heads, head_dim) for n in ("query", "key", "value"))
        logits = jnp.einsum("bqhd,bkhd->bhqk", q, k).astype(jnp.float32) / np.sqrt(head_dim)
        logits = logits + RelativePositionBias(heads, name="relative_bias")(t)
        causal = np.tril(np.ones((t, t), dtype=bool))
        logits = jnp.where(causal[None, None], logits, _NEG_INF)
        weights = jax.nn.softmax(logits, axis=-1).astype(self.dtype)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, inner)
        return _dense(self.size.embed_dim, "out", self.dtype)(out)


class GatedReluMlp(nn.Module):
    size: ModelSize
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        gate = nn.relu(_dense(self.size.mlp_dim, "wi_0", self.dtype)(x))
        linear = _dense(self.size.mlp_dim, "wi_1", self.dtype)(x)
        return _dense(self.size.embed_dim, "wo", self.dtype)(gate * linear)


class DecoderBlock(nn.Module):
    size: ModelSize
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        norm = lambda name: nn.RMSNorm(epsilon=1e-6, dtype=self.dtype, param_dtype=jnp.float32, name=name)
        x = x + CausalSelfAttention(self.size, self.dtype, name="attention")(norm("pre_attention_norm")(x))
        return x + GatedReluMlp(self.size, self.dtype, name="mlp")(norm("pre_mlp_norm")(x))


class DecoderLM(nn.Module):
    """Causal LM over ids in [0, vocab_size). ``__call__(tokens int [B, T]) -> logits [B, T, vocab_size]``.

    ``dtype`` is the compute dtype (bfloat16 on accelerators); parameters are always float32.
    ``remat`` recomputes block activations in the backward pass to save memory on large sizes.
    """

    size: ModelSize
    vocab_size: int
    dtype: Any = jnp.float32
    remat: bool = False

    @nn.compact
    def __call__(self, tokens: jnp.ndarray, project: bool = True) -> jnp.ndarray:
        """Logits [B, T, vocab_size]; with ``project=False`` the final-norm hidden states [B, T, d]
        (training multiplies them by ``params['output_proj']['kernel']`` itself, see nc.train.losses)."""
        inputs = shift_right(tokens, bos_id=self.vocab_size)
        embed = nn.Embed(
            self.vocab_size + 1,
            self.size.embed_dim,
            embedding_init=nn.initializers.normal(stddev=1.0),
            param_dtype=jnp.float32,
            name="token_embed",
        )
        x = embed(inputs).astype(self.dtype)
        block = nn.remat(DecoderBlock) if self.remat else DecoderBlock
        for i in range(self.size.num_layers):
            x = block(self.size, self.dtype, name=f"layer_{i}")(x)
        x = nn.RMSNorm(epsilon=1e-6, dtype=self.dtype, param_dtype=jnp.float32, name="final_norm")(x)
        if not project:
            return x
        return _dense(self.vocab_size, "output_proj", self.dtype)(x)


def build_model(size: ModelSize, vocab_size: int, dtype: Any = jnp.float32, remat: bool = False) -> DecoderLM:
    """The model for a size from ``nc.models.sizes`` and a vocabulary (256 bytes, 2**token_bits, SentencePiece)."""
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    return DecoderLM(size=size, vocab_size=int(vocab_size), dtype=dtype, remat=remat)


def init_params(model: DecoderLM, seed: int, seq_len: int = 8) -> Any:
    """Seeded float32 parameters (the parameter shapes do not depend on ``seq_len``)."""
    return model.init(jax.random.PRNGKey(seed), jnp.zeros((1, seq_len), jnp.int32))["params"]


def param_shapes(model: DecoderLM) -> Any:
    """Parameter shapes without allocating them (works for the 2b size on a laptop)."""
    return jax.eval_shape(lambda: init_params(model, 0, seq_len=2))


def count_params(params: Any) -> dict[str, int]:
    """{'total', 'embedding', 'non_embedding'} element counts of a params tree (arrays or shape structs)."""
    counts = {"total": 0, "embedding": 0}
    for name, subtree in params.items():
        n = sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(subtree))
        counts["total"] += n
        if name in EMBEDDING_PARAMS:
            counts["embedding"] += n
    counts["non_embedding"] = counts["total"] - counts["embedding"]
    return counts
