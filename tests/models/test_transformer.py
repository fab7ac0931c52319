import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nc.models import relative_bias
from nc.models.relative_bias import RelativePositionBias, broadcast_over_batch, causal_relative_buckets
from nc.models.sizes import MODEL_SIZES, PAPER_M2_SIZES, model_size
from nc.models.transformer import build_model, count_params, init_params, param_shapes

# 3m: 3,147,904 exactly, i.e. "3.1M" at two significant figures (1.5% above 3.1e6), so the 1% check
# uses three significant figures for it.
PAPER_COUNTS = {"3m": 3.15e6, "25m": 25.2e6, "113m": 113e6, "403m": 403e6, "2b": 1.61e9}


@pytest.mark.parametrize("name", list(MODEL_SIZES))
def test_non_embedding_params_match_size_table(name):
    size = model_size(name)
    counts = count_params(param_shapes(build_model(size, vocab_size=256)))
    assert counts["non_embedding"] == size.non_embedding_params
    # embedding: (vocab + 1 BOS) input rows plus the untied vocab-wide output projection
    assert counts["embedding"] == 257 * size.embed_dim + size.embed_dim * 256


@pytest.mark.parametrize("name", ["3m", *PAPER_M2_SIZES])
def test_paper_sizes_within_one_percent(name):
    counts = count_params(param_shapes(build_model(model_size(name), vocab_size=65536)))
    assert counts["non_embedding"] == pytest.approx(PAPER_COUNTS[name], rel=0.01)


def test_architecture_has_no_biases_and_per_layer_relative_tables():
    size = model_size("s2")
    shapes = param_shapes(build_model(size, vocab_size=100))
    paths = ["/".join(str(k.key) for k in path) for path, _ in jax.tree_util.tree_leaves_with_path(shapes)]
    assert not [p for p in paths if p.endswith("bias")]
    tables = [p for p in paths if p.endswith("rel_embedding")]
    assert len(tables) == size.num_layers
    assert shapes["token_embed"]["embedding"].shape == (101, size.embed_dim)
    assert shapes["output_proj"]["kernel"].shape == (size.embed_dim, 100)
    assert shapes["layer_0"]["mlp"]["wi_0"]["kernel"].shape == (size.embed_dim, size.mlp_dim)
    assert shapes["layer_0"]["mlp"]["wi_1"]["kernel"].shape == (size.embed_dim, size.mlp_dim)


def test_relative_buckets_causal_t5_layout():
    buckets = causal_relative_buckets(300)
    distance_row = buckets[299, ::-1]  # distances 0..299 from the last query
    assert list(distance_row[:16]) == list(range(16))  # exact buckets for short distances
    assert np.all(np.diff(distance_row) >= 0)
    # log-spaced: 16 + floor(log(n / 16) / log(128 / 16) * 16), capped at 31 (T5's formula)
    assert distance_row[32] == 21 and distance_row[112] == 30 and np.all(distance_row[113:] == 31)
    assert buckets.max() == 31 and buckets.min() == 0
    assert np.all(buckets[np.triu_indices(300, 1)] == 0)  # future keys (masked) share bucket 0


def test_relative_bias_one_hot_equals_gather(monkeypatch):
    module = RelativePositionBias(num_heads=3)
    params = module.init(jax.random.PRNGKey(0), 40)
    one_hot = np.asarray(module.apply(params, 40))
    monkeypatch.setattr(relative_bias, "ONE_HOT_MAX_ENTRIES", 0)  # force the gather path
    gathered = np.asarray(module.apply(params, 40))
    buckets = causal_relative_buckets(40)
    table = np.asarray(params["params"]["rel_embedding"])
    assert one_hot.shape == (1, 3, 40, 40)
    np.testing.assert_array_equal(one_hot, gathered)
    np.testing.assert_array_equal(one_hot[0], np.transpose(table[buckets], (2, 0, 1)))


def test_broadcast_over_batch_has_the_broadcast_and_its_gradient():
    rng = np.random.default_rng(0)
    bias = jnp.asarray(rng.normal(size=(1, 2, 5, 7)), jnp.float32)
    weights = jnp.asarray(rng.normal(size=(3, 2, 5, 7)), jnp.float32)
    assert np.array_equal(broadcast_over_batch(bias, 3), np.broadcast_to(np.asarray(bias), (3, 2, 5, 7)))

    def loss(fn):
        return lambda b: jnp.sum(jnp.sin(fn(b) * weights))

    got = jax.grad(loss(lambda b: broadcast_over_batch(b, 3)))(bias)
    want = jax.grad(loss(lambda b: jnp.broadcast_to(b, (3, 2, 5, 7))))(bias)
    assert got.shape == bias.shape and got.dtype == bias.dtype
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)


def test_logits_are_causal_and_position_zero_sees_only_bos():
    model = build_model(model_size("s2"), vocab_size=50)
    params = init_params(model, seed=3)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 50, (2, 12))
    b = a.copy()
    b[:, 7:] = rng.integers(0, 50, (2, 5))
    la = np.asarray(model.apply({"params": params}, jnp.asarray(a)))
    lb = np.asarray(model.apply({"params": params}, jnp.asarray(b)))
    assert la.shape == (2, 12, 50)
    np.testing.assert_array_equal(la[:, :8], lb[:, :8])  # logits[t] sees tokens[:t] only
    assert not np.allclose(la[:, 8:], lb[:, 8:])
    np.testing.assert_allclose(la[0, 0], la[1, 0], rtol=1e-6)  # position 0: BOS alone


def test_seeded_init_is_deterministic():
    model = build_model(model_size("s1"), vocab_size=16)
    p0, p1, p2 = init_params(model, 0), init_params(model, 0), init_params(model, 1)
    leaves = jax.tree_util.tree_leaves
    assert all(np.array_equal(x, y) for x, y in zip(leaves(p0), leaves(p1)))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves(p0), leaves(p2)))


def test_bad_vocab_rejected():
    with pytest.raises(ValueError, match="vocab_size"):
        build_model(model_size("s1"), vocab_size=1)
