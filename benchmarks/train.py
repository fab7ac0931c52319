"""Training and M1-compression throughput.

M2 training: tokens/s of the jitted train step per size, achieved FLOP/s = 6 * N * tokens/s
(N = non-embedding parameters; the Kaplan et al. estimate, attention FLOPs excluded) beside the
machine's dense float32 matmul FLOP/s measured in the same run (ratio = model FLOPs utilisation).
Output layer: ms per train step of size t1 with a 65,536-token vocabulary, nc's loss (flattened hidden
states times the output kernel, target logit from its kernel column, log Z over blocks of the vocabulary)
against the same loss over whole logits and the textbook one (3-D logits from the model, target logit
gathered from them), and ms per evaluation batch blocked and whole, side by side in the same run.
Relative position bias: ms per train step with the bias's gradient summed over the batch as a product
with a ones vector (``broadcast_over_batch``) against autodiff's reduction over the batch axis.
M1 compression: bytes/s of AC[v=256] and EqualInfoAC[b=16;v=256] with an M1 of size t0 (random
init: throughput, not compression ratio, is measured), and the share of time inside ``source.probs``.

Run: .venv/bin/python benchmarks/train.py [--sizes s1 s2 t1 t2 t3 t4] [--seq-len 128] [--batch 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nc.coding import encode_examples
from nc.methods import parse_method
from nc.models import transformer
from nc.models.m1 import M1Source
from nc.models.sizes import model_size
from nc.models.transformer import build_model, init_params
from nc.pipeline.runtime import limit_cpu_threads
from nc.train import losses
from nc.train.evaluation import make_eval_step
from nc.train.loop import make_train_step
from nc.train.losses import masked_mean
from nc.train.sharding import data_mesh, replicated_sharding, shard_batch
from nc.train.state import init_train_state, make_optimizer, resolve_dtype


def matmul_flops_per_s(n: int = 1024, repeats: int = 10) -> float:
    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        f(a).block_until_ready()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def train_tokens_per_s(name: str, batch: int, seq_len: int, vocab: int, steps: int) -> float:
    mesh = data_mesh()
    model = build_model(model_size(name), vocab, resolve_dtype("auto"))
    optimizer = make_optimizer(1.0, 10_000)
    replicated = replicated_sharding(mesh)
    state = jax.jit(lambda: init_train_state(model, optimizer, 0), out_shardings=replicated)()
    step = make_train_step(model, optimizer, 1e-4, replicated, replicated)
    rng = np.random.default_rng(0)
    tokens, mask = shard_batch(
        mesh, rng.integers(0, vocab, (batch, seq_len)).astype(np.int32), np.ones((batch, seq_len), bool)
    )
    for _ in range(2):  # compile and warm up
        state, stats = step(state, tokens, mask)
    jax.block_until_ready(stats)
    start = time.perf_counter()
    for _ in range(steps):
        state, stats = step(state, tokens, mask)
    jax.block_until_ready(stats)
    return steps * batch * seq_len / (time.perf_counter() - start)


def textbook_objective(model, params, tokens, mask, z_loss):
    """The baseline: logits [B, T, V] from the model, the target's logit gathered from them."""
    logits = model.apply({"params": params}, tokens).astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, tokens[..., None], axis=-1)[..., 0]
    return masked_mean(log_z - target_logit, mask) + z_loss * masked_mean(jnp.square(log_z), mask)


@contextlib.contextmanager
def patched(module, name: str, value):
    """``module.name = value`` while programs are traced inside the block."""
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def warm_up(step, state, *args) -> None:
    """Compile ``step`` for every input layout a timed loop will feed it (its own outputs included): a
    variant traced under ``patched`` must not be traced again outside it."""
    for _ in range(2):
        state, aux = step(state, *args)
    jax.block_until_ready((state, aux))


def median_step_ms(steps_by_name: dict, make_state, args: tuple, steps: int, repeats: int = 3) -> dict[str, float]:
    """Median ms per call of each (compiled) ``step(state, *args) -> (state, aux)``, timed alternately so
    all see the same machine load."""
    timings: dict[str, list[float]] = {name: [] for name in steps_by_name}
    for _ in range(repeats):
        for name, step in steps_by_name.items():
            state, aux = jax.block_until_ready(make_state()), None
            start = time.perf_counter()
            for _ in range(steps):
                state, aux = step(state, *args)
            jax.block_until_ready((state, aux))
            timings[name].append((time.perf_counter() - start) / steps * 1e3)
    return {name: float(np.median(t)) for name, t in timings.items()}


def output_layer_ms(vocab: int, batch: int, seq_len: int, steps: int) -> dict[str, float]:
    """ms per Adafactor step of size t1 (and per evaluation batch) with nc's loss (log Z over blocks of
    ``VOCAB_BLOCK`` columns above ``WHOLE_LOGITS_MAX_VOCAB``), with nc's loss over whole [B*T, V] logits,
    and with the textbook loss (3-D logits from the model, the target's logit gathered from them)."""
    model = build_model(model_size("t1"), vocab)
    optimizer = make_optimizer(1.0, 10_000)
    replicated = replicated_sharding(data_mesh())
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, vocab, (batch, seq_len)), jnp.int32)
    mask = jnp.ones((batch, seq_len), bool)

    @jax.jit
    def textbook_step(state, tokens, mask):
        grads = jax.grad(lambda p: textbook_objective(model, p, tokens, mask, 1e-4))(state["params"])
        updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
        return {
            "params": optax.apply_updates(state["params"], updates),
            "opt_state": opt_state,
            "step": state["step"] + 1,
        }, None

    make_state = jax.jit(lambda: init_train_state(model, optimizer, 0), out_shardings=replicated)

    def evaluation():
        step = make_eval_step.__wrapped__(model)  # a fresh jit, traced under its own setting
        return lambda params, tokens, mask: (params, step(params, tokens, mask))

    train_steps = {
        "blocked": make_train_step(model, optimizer, 1e-4, replicated, replicated),
        "whole": make_train_step(model, optimizer, 1e-4, replicated, replicated),
        "textbook": textbook_step,
    }
    eval_steps = {"eval blocked": evaluation(), "eval whole": evaluation()}
    for name, step in {**train_steps, **eval_steps}.items():  # trace and compile each variant under its setting
        with patched(losses, "WHOLE_LOGITS_MAX_VOCAB", vocab if "whole" in name else losses.WHOLE_LOGITS_MAX_VOCAB):
            warm_up(step, make_state() if name in train_steps else make_state()["params"], tokens, mask)
    times = median_step_ms(train_steps, make_state, (tokens, mask), steps)
    times.update(median_step_ms(eval_steps, lambda: make_state()["params"], (tokens, mask), steps))
    return times


def bias_gradient_step_ms(name: str, vocab: int, batch: int, seq_len: int, steps: int) -> dict[str, float]:
    """ms per Adafactor step with the relative position bias broadcast over the batch by
    ``broadcast_over_batch`` (its gradient sums the batch as a product with a ones vector) and by plain
    broadcasting (autodiff sums the batch with XLA's reduction over the leading axis)."""
    model = build_model(model_size(name), vocab)
    optimizer = make_optimizer(1.0, 10_000)
    replicated = replicated_sharding(data_mesh())
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, vocab, (batch, seq_len)), jnp.int32)
    mask = jnp.ones((batch, seq_len), bool)

    make_state = jax.jit(lambda: init_train_state(model, optimizer, 0), out_shardings=replicated)
    variants = {
        "ones-vector product": transformer.broadcast_over_batch,
        "autodiff broadcast": lambda bias, batch: bias,  # [1, H, T, T]: broadcast by the addition
    }
    steps_by_name = {}
    for label, broadcast in variants.items():
        step = make_train_step(model, optimizer, 1e-4, replicated, replicated)
        with patched(transformer, "broadcast_over_batch", broadcast):
            warm_up(step, make_state(), tokens, mask)
        steps_by_name[label] = step
    return median_step_ms(steps_by_name, make_state, (tokens, mask), steps)


class TimedSource:
    """Wraps a probability source, accumulating the seconds spent in ``probs``."""

    def __init__(self, source):
        self.source, self.alphabet_size, self.seconds = source, source.alphabet_size, 0.0

    def probs(self, segments):
        start = time.perf_counter()
        out = self.source.probs(segments)
        self.seconds += time.perf_counter() - start
        return out


def compression_throughput(label: str, examples: list[bytes], batch: int) -> tuple[float, float]:
    model = build_model(model_size("t0"), 256)
    source = TimedSource(M1Source(model, init_params(model, 0), chunk_rows=batch))
    method = parse_method(label)
    encode_examples(examples[:2], method, source, batch_size=batch)  # compile the source's shapes
    source.seconds = 0.0
    start = time.perf_counter()
    encode_examples(examples, method, source, batch_size=batch)
    total = time.perf_counter() - start
    return sum(map(len, examples)) / total, source.seconds / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["s1", "s2", "t1", "t2", "t3", "t4"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--example-bytes", type=int, default=1024)
    parser.add_argument("--coder-batch", type=int, default=16, help="examples coded together = M1 rows per call")
    parser.add_argument("--big-vocab", type=int, default=65536)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="1 (default): XLA on one CPU thread, as a one-CPU workflow job; other values: XLA's default (all cores)",
    )
    parser.add_argument("--bias-sizes", nargs="*", default=["t1", "t4"], help="sizes of the bias-gradient comparison")
    args = parser.parse_args()
    limit_cpu_threads(args.threads)  # before the first computation starts the backend
    print(f"backend={jax.default_backend()} devices={len(jax.devices())} XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    peak = matmul_flops_per_s()
    print(f"dense f32 matmul 1024^3: {peak / 1e9:.2f} GFLOP/s")
    print(f"{'size':>5} {'N':>10} {'tokens/s':>10} {'GFLOP/s':>9} {'MFU':>6}")
    for name in args.sizes:
        n = model_size(name).non_embedding_params
        tps = train_tokens_per_s(name, args.batch, args.seq_len, args.vocab, args.steps)
        achieved = 6 * n * tps
        print(f"{name:>5} {n:>10d} {tps:>10.0f} {achieved / 1e9:>9.3f} {achieved / peak:>6.3f}")
    out = output_layer_ms(args.big_vocab, args.batch, args.seq_len, args.steps)
    print(
        f"t1, v={args.big_vocab}, batch {args.batch}x{args.seq_len}, ms per train step: blocked log Z "
        f"{out['blocked']:.0f}, whole logits {out['whole']:.0f} ({out['whole'] / out['blocked']:.2f}x), textbook "
        f"{out['textbook']:.0f} ({out['textbook'] / out['blocked']:.2f}x); ms per evaluation batch: blocked "
        f"{out['eval blocked']:.1f}, whole {out['eval whole']:.1f} ({out['eval whole'] / out['eval blocked']:.2f}x)"
    )
    for name in args.bias_sizes:
        out = bias_gradient_step_ms(name, args.vocab, args.batch, args.seq_len, args.steps)
        ours, plain = out["ones-vector product"], out["autodiff broadcast"]
        print(
            f"{name}, v={args.vocab}, batch {args.batch}x{args.seq_len}, ms per train step: bias gradient as a "
            f"ones-vector product {ours:.1f}, autodiff's batch reduction {plain:.1f} ({plain / ours:.2f}x)"
        )
    rng = np.random.default_rng(0)
    examples = [bytes(rng.integers(97, 123, args.example_bytes).astype(np.uint8)) for _ in range(args.examples)]
    for label in ("AC[v=256]", "EqualInfoAC[b=16;v=256]"):
        bytes_per_s, m1_share = compression_throughput(label, examples, args.coder_batch)
        print(f"{label}: {bytes_per_s:.0f} bytes/s, M1 share of time {m1_share:.2f}, coder {1 - m1_share:.2f}")


if __name__ == "__main__":
    main()
