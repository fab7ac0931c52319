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

from nc.models.relative_bias import RelativePositionBias, broadcast_over_batch
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
    """Causal multi-head self-attention with a relative position bias.

    With ``past`` (keys and values [B, T0, H, D] of the positions before ``x``), ``x`` holds positions
    T0..T0+t-1 of the same context and attends to the past and to itself: the same function of the
    context as one call over all T0+t positions, evaluated for the new positions only. ``return_kv``
    also returns the keys and values of every position so far (the next call's ``past``).
    """

    size: ModelSize
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray, past: tuple | None = None, return_kv: bool = False) -> Any:
        b, t, _ = x.shape
        heads, head_dim = self.size.num_heads, self.size.head_dim
        inner = heads * head_dim
        q, k, v = (_dense(inner, n, self.dtype)(x).reshape(b, t, heads, head_dim) for n in ("query", "key", "value"))
        offset = 0
        if past is not None:
            offset = past[0].shape[1]
            k, v = jnp.concatenate([past[0], k], axis=1), jnp.concatenate([past[1], v], axis=1)
        total = offset + t
        logits = jnp.einsum("bqhd,bkhd->bhqk", q, k).astype(jnp.float32) / np.sqrt(head_dim)
        bias = RelativePositionBias(heads, name="relative_bias")(total)
        causal = np.tril(np.ones((total, total), dtype=bool))
        if offset:  # the new positions' rows only
            bias, causal = bias[:, :, offset:], causal[offset:]
        logits = jnp.where(causal[None, None], logits + broadcast_over_batch(bias, b), _NEG_INF)
        weights = jax.nn.softmax(logits, axis=-1).astype(self.dtype)
        out = _dense(self.size.embed_dim, "out", self.dtype)(
            jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, inner)
        )
        return (out, (k, v)) if return_kv else out


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
    def __call__(self, x: jnp.ndarray, past: tuple | None = None, return_kv: bool = False) -> Any:
        norm = lambda name: nn.RMSNorm(epsilon=1e-6, dtype=self.dtype, param_dtype=jnp.float32, name=name)
        attention = CausalSelfAttention(self.size, self.dtype, name="attention")(
            norm("pre_attention_norm")(x), past, return_kv
        )
        attended, kv = attention if return_kv else (attention, None)
        x = x + attended
        x = x + GatedReluMlp(self.size, self.dtype, name="mlp")(norm("pre_mlp_norm")(x))
        return (x, kv) if return_kv else x


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
    def __call__(
        self, tokens: jnp.ndarray, project: bool = True, past: list | None = None, return_kv: bool = False
    ) -> Any:
        """Logits [B, T, vocab_size]; with ``project=False`` the final-norm hidden states [B, T, d]
        (training multiplies them by ``params['output_proj']['kernel']`` itself, see nc.train.losses).

        Incremental evaluation (M1's context extensions, ``nc.models.m1``): ``past`` holds each layer's keys
        and values [B, T0, H, D] of positions 0..T0-1 of ``tokens`` [B, T]; the logits are then those of
        positions T0..T-1 only. ``return_kv``: also return every layer's keys and values of positions 0..T-1.
        """
        inputs = shift_right(tokens, bos_id=self.vocab_size)
        if past is not None:
            inputs = inputs[:, past[0][0].shape[1] :]
        embed = nn.Embed(
            self.vocab_size + 1,
            self.size.embed_dim,
            embedding_init=nn.initializers.normal(stddev=1.0),
            param_dtype=jnp.float32,
            name="token_embed",
        )
        x = embed(inputs).astype(self.dtype)
        incremental = past is not None or return_kv
        block = nn.remat(DecoderBlock) if self.remat and not incremental else DecoderBlock
        kvs = []
        for i in range(self.size.num_layers):
            layer = block(self.size, self.dtype, name=f"layer_{i}")
            if incremental:
                x, kv = layer(x, None if past is None else past[i], True)
                kvs.append(kv)
            else:
                x = layer(x)
        x = nn.RMSNorm(epsilon=1e-6, dtype=self.dtype, param_dtype=jnp.float32, name="final_norm")(x)
        out = x if not project else _dense(self.vocab_size, "output_proj", self.dtype)(x)
        return (out, kvs) if return_kv else out


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
