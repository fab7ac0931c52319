"""Training and M1-compression throughput.

M2 training: tokens/s of the jitted train step per size, achieved FLOP/s = 6 * N * tokens/s
(N = non-embedding parameters; the Kaplan et al. estimate, attention FLOPs excluded) beside the
machine's dense float32 matmul FLOP/s measured in the same run (ratio = model FLOPs utilisation).
Output layer: ms per train step of size t1 with a 65,536-token vocabulary, nc's loss (flattened hidden
states times the output kernel, target logit from its kernel column) against the textbook one (3-D
logits from the model, target logit gathered from them), side by side in the same run.
M1 compression: bytes/s of AC[v=256] and EqualInfoAC[b=16;v=256] with an M1 of size t0 (random
init: throughput, not compression ratio, is measured), and the share of time inside ``source.probs``.

Run: .venv/bin/python benchmarks/train.py [--sizes s1 s2 t1 t2 t3 t4] [--seq-len 128] [--batch 8]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nc.coding import encode_examples
from nc.methods import parse_method
from nc.models.m1 import M1Source
from nc.models.sizes import model_size
from nc.models.transformer import build_model, init_params
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


def output_layer_step_ms(vocab: int, batch: int, seq_len: int, steps: int, repeats: int = 3) -> tuple[float, float]:
    """Median ms per Adafactor step of size t1 with nc's training objective and with the textbook one,
    timed alternately so both see the same machine load."""
    model = build_model(model_size("t1"), vocab)
    optimizer = make_optimizer(1.0, 10_000)
    replicated = replicated_sharding(data_mesh())
    nc_step = make_train_step(model, optimizer, 1e-4, replicated, replicated)

    @jax.jit
    def textbook_step(state, tokens, mask):
        grads = jax.grad(lambda p: textbook_objective(model, p, tokens, mask, 1e-4))(state["params"])
        updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
        return {
            "params": optax.apply_updates(state["params"], updates),
            "opt_state": opt_state,
            "step": state["step"] + 1,
        }, None

    tokens = jnp.asarray(np.random.default_rng(0).integers(0, vocab, (batch, seq_len)), jnp.int32)
    mask = jnp.ones((batch, seq_len), bool)
    timings: dict[str, list[float]] = {"nc": [], "textbook": []}
    for _ in range(repeats):
        for name, step in (("nc", nc_step), ("textbook", textbook_step)):
            state = init_train_state(model, optimizer, 0)
            state, _ = step(state, tokens, mask)  # compile and warm up
            jax.block_until_ready(state)
            start = time.perf_counter()
            for _ in range(steps):
                state, _ = step(state, tokens, mask)
            jax.block_until_ready(state)
            timings[name].append((time.perf_counter() - start) / steps * 1e3)
    return float(np.median(timings["nc"])), float(np.median(timings["textbook"]))


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
    args = parser.parse_args()
    print(f"backend={jax.default_backend()} devices={len(jax.devices())}")
    peak = matmul_flops_per_s()
    print(f"dense f32 matmul 1024^3: {peak / 1e9:.2f} GFLOP/s")
    print(f"{'size':>5} {'N':>10} {'tokens/s':>10} {'GFLOP/s':>9} {'MFU':>6}")
    for name in args.sizes:
        n = model_size(name).non_embedding_params
        tps = train_tokens_per_s(name, args.batch, args.seq_len, args.vocab, args.steps)
        achieved = 6 * n * tps
        print(f"{name:>5} {n:>10d} {tps:>10.0f} {achieved / 1e9:>9.3f} {achieved / peak:>6.3f}")
    ours, textbook = output_layer_step_ms(args.big_vocab, 4, args.seq_len, args.steps)
    print(
        f"t1, v={args.big_vocab}, batch 4x{args.seq_len}: nc loss {ours:.0f} ms/step, textbook loss "
        f"{textbook:.0f} ms/step, speed-up {textbook / ours:.2f}x"
    )
    rng = np.random.default_rng(0)
    examples = [bytes(rng.integers(97, 123, args.example_bytes).astype(np.uint8)) for _ in range(args.examples)]
    for label in ("AC[v=256]", "EqualInfoAC[b=16;v=256]"):
        bytes_per_s, m1_share = compression_throughput(label, examples, args.coder_batch)
        print(f"{label}: {bytes_per_s:.0f} bytes/s, M1 share of time {m1_share:.2f}, coder {1 - m1_share:.2f}")


if __name__ == "__main__":
    main()
