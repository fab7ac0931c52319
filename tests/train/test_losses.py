"""The loss computed from hidden states and the output kernel equals the textbook one on the logits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nc.train import losses
from nc.train.losses import token_losses, training_loss


def reference_losses(hidden, kernel, targets):
    logits = jnp.einsum("btd,dv->btv", hidden, kernel)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return log_z - target_logit, log_z, correct


def random_case(seed, batch=3, length=5, width=4, vocab=11):
    rng = np.random.default_rng(seed)
    hidden = jnp.asarray(rng.normal(size=(batch, length, width)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(width, vocab)), jnp.float32)
    targets = jnp.asarray(rng.integers(0, vocab, size=(batch, length)), jnp.int32)
    return hidden, kernel, targets


def test_token_losses_match_logit_formulation():
    for seed in range(5):
        hidden, kernel, targets = random_case(seed)
        got = token_losses(hidden, kernel, targets)
        want = reference_losses(hidden, kernel, targets)
        for g, w in zip(got, want):
            assert g.shape == targets.shape
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


def test_accuracy_counts_the_argmax_target():
    hidden = jnp.ones((1, 2, 1), jnp.float32)
    kernel = jnp.asarray([[0.0, 3.0, 1.0]], jnp.float32)  # logits [0, 3, 1] at both positions
    _, _, correct = token_losses(hidden, kernel, jnp.asarray([[1, 2]], jnp.int32))
    assert np.asarray(correct).tolist() == [[1.0, 0.0]]


def test_training_gradients_match_logit_formulation():
    hidden, kernel, targets = random_case(7)
    mask = jnp.asarray(np.random.default_rng(1).integers(0, 2, size=targets.shape), jnp.float32)

    def reference(h, k):
        ce, log_z, _ = reference_losses(h, k, targets)
        m = mask / jnp.maximum(mask.sum(), 1.0)
        return jnp.sum(ce * m) + 1e-4 * jnp.sum(jnp.square(log_z) * m)

    got = jax.grad(lambda h, k: training_loss(h, k, targets, mask, 1e-4)[0], argnums=(0, 1))(hidden, kernel)
    want = jax.grad(reference, argnums=(0, 1))(hidden, kernel)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)
    value, metrics = training_loss(hidden, kernel, targets, mask, 1e-4)
    np.testing.assert_allclose(float(value), float(reference(hidden, kernel)), rtol=1e-6)
    assert float(metrics["tokens"]) == float(mask.sum())


@pytest.fixture
def small_blocks(monkeypatch):
    """Vocabularies above 4 columns go through the blocked log-partition, in blocks of 4 columns (the
    test vocabulary of 11 is three blocks, the last one padded)."""
    monkeypatch.setattr(losses, "VOCAB_BLOCK", 4)
    monkeypatch.setattr(losses, "WHOLE_LOGITS_MAX_VOCAB", 4)


def test_blocked_losses_match_logit_formulation(small_blocks):
    for seed in range(5):
        hidden, kernel, targets = random_case(seed)
        got = jax.jit(token_losses)(hidden, kernel, targets)
        want = reference_losses(hidden, kernel, targets)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


def test_blocked_accuracy_counts_ties_and_targets_in_every_block(small_blocks):
    hidden = jnp.ones((1, 4, 1), jnp.float32)
    # logits [0, 3, 1, 0 | 0, 3, 0, 0 | 2, 0, 1]: the maximum 3 at columns 1 and 5 (a tie across blocks)
    kernel = jnp.asarray([[0.0, 3.0, 1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 2.0, 0.0, 1.0]], jnp.float32)
    _, log_z, correct = token_losses(hidden, kernel, jnp.asarray([[1, 5, 8, 10]], jnp.int32))
    assert np.asarray(correct).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    np.testing.assert_allclose(np.asarray(log_z)[0], float(jax.nn.logsumexp(kernel[0])), rtol=1e-6)


def test_blocked_gradients_match_logit_formulation(small_blocks):
    test_training_gradients_match_logit_formulation()


def test_blocked_bfloat16_gradients_match_whole_logits(small_blocks, monkeypatch):
    """bfloat16 hidden states (an accelerator's compute dtype): the blocked gradient has the input's dtype
    and equals the whole-logit one up to bfloat16 rounding."""
    hidden, kernel, targets = random_case(3)
    hidden = hidden.astype(jnp.bfloat16)
    mask = jnp.ones(targets.shape, jnp.float32)

    def grads():
        return jax.jit(jax.grad(lambda h, k: training_loss(h, k, targets, mask, 1e-4)[0], argnums=(0, 1)))(
            hidden, kernel
        )

    blocked = grads()
    monkeypatch.setattr(losses, "WHOLE_LOGITS_MAX_VOCAB", 11)
    whole = grads()
    assert blocked[0].dtype == jnp.bfloat16 and blocked[1].dtype == jnp.float32
    for b, w in zip(blocked, whole):
        np.testing.assert_allclose(np.asarray(b, np.float32), np.asarray(w, np.float32), rtol=2e-2, atol=2e-3)
