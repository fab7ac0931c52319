import numpy as np
import pytest

from nc.coding.sources import chained_probs
from nc.data.dataset import TokenDataset
from nc.models.m1 import M1Source, call_bytes_per_row
from nc.models.sizes import model_size
from nc.models.transformer import build_model, init_params
from nc.train import TrainConfig, train_lm
from nc.train.run import load_probability_source


@pytest.fixture(scope="module")
def m1_run(tmp_path_factory):
    rng = np.random.default_rng(0)
    text = rng.integers(97, 123, (16, 32)).astype(np.uint8)
    n = np.full(16, 32, np.int32)
    ds = TokenDataset(text, n, n.astype(np.int64), {"method": "Bytes", "vocab_size": 256, "seq_len": 32})
    run_dir = tmp_path_factory.mktemp("m1")
    train_lm(
        ds,
        None,
        model_size("s0"),
        TrainConfig(steps=3, batch_size=4, warmup_steps=2, dtype="float32"),
        run_dir,
        progress=False,
    )
    return run_dir


def test_loaded_source_gives_distributions(m1_run):
    source = load_probability_source(m1_run, chunk_rows=8)
    probs = source.probs(np.frombuffer(b"hello world, hello", np.uint8)[None])
    assert source.alphabet_size == 256
    assert probs.shape == (1, 18, 256) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_rows_are_bit_identical_whatever_the_batching():
    model = build_model(model_size("s2"), 256)
    source = M1Source(model, init_params(model, seed=1), chunk_rows=4)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (11, 20)).astype(np.uint8)  # 3 chunks, last one padded
    full = source.probs(batch)
    for b in range(11):
        np.testing.assert_array_equal(source.probs(batch[b : b + 1])[0], full[b])
    np.testing.assert_array_equal(source.probs(batch[5:12])[2], full[7])
    other = rng.integers(0, 256, (11, 20)).astype(np.uint8)
    other[6] = batch[6]
    np.testing.assert_array_equal(source.probs(other)[6], full[6])  # other rows do not matter
    for t in (0, 1, 9, 19):
        later = batch[3:4].copy()
        later[0, t:] = rng.integers(0, 256, 20 - t)
        # row t conditions on bytes < t only: changing bytes t.. leaves rows 0..t unchanged
        np.testing.assert_array_equal(source.probs(later)[0, : t + 1], full[3, : t + 1])


def test_bad_inputs_rejected():
    model = build_model(model_size("s0"), 256)
    source = M1Source(model, init_params(model, 0))
    with pytest.raises(ValueError, match="uint8"):
        source.probs(np.zeros((2, 3), np.int32))
    with pytest.raises(ValueError, match="vocab_size"):
        M1Source(build_model(model_size("s0"), 65536), None)


@pytest.mark.slow
def test_equal_info_roundtrip_across_batch_sizes(m1_run):
    coding = pytest.importorskip("nc.coding")
    if not hasattr(coding, "encode_examples") or not (
        hasattr(coding, "decode_examples") or hasattr(coding, "decode_example")
    ):
        pytest.skip("nc.coding does not expose encode_examples / decode_examples yet")
    from nc.methods import parse_method

    source = load_probability_source(m1_run, chunk_rows=8)
    method = parse_method("EqualInfoAC[b=16;v=256]")
    rng = np.random.default_rng(3)
    examples = [bytes(rng.integers(97, 123, int(rng.integers(20, 60))).astype(np.uint8)) for _ in range(24)]
    encoded = coding.encode_examples(examples, method, source, batch_size=64)
    windows = sum(len(e.window_starts) for e in encoded if e.window_starts is not None)
    assert windows > 200
    for batch_size in (1, 7):
        if hasattr(coding, "decode_examples"):
            decoded = coding.decode_examples(encoded, method, source, batch_size=batch_size)
        else:  # one example at a time: batch 1
            decoded = [coding.decode_example(e, method, source) for e in encoded]
        assert [i for i, (x, d) in enumerate(zip(examples, decoded)) if d != x] == []


@pytest.mark.parametrize("name", ["t0", "3m"])
def test_rows_per_call_follow_the_memory_budget_xla_reports(name):
    """call_bytes_per_row is an upper estimate of the compiled call's memory, and not a loose one."""
    import jax.numpy as jnp

    size = model_size(name)
    model = build_model(size, 256)
    source = M1Source(model, init_params(model, 0), call_memory_mb=64, max_rows=128)
    for rows, length in ((4, 32), (4, 512), (2, 2048), (64, 16)):
        analysis = source._probs.lower(source._params, jnp.zeros((rows, length), jnp.int32)).compile().memory_analysis()
        used = analysis.temp_size_in_bytes + analysis.output_size_in_bytes
        assert used <= rows * call_bytes_per_row(size, length) <= 4 * used, (rows, length)
    assert source.rows_for(16) == 128 and source.rows_for(2048) < source.rows_for(512) < 128
    assert source.rows_for(2048) * call_bytes_per_row(size, 2048) <= 64 * 2**20 or source.rows_for(2048) == 1
    before = source.positions_evaluated
    source.probs(np.zeros((3, 40), np.uint8))
    assert source.positions_evaluated - before == source.rows_for(40) * 40  # padding rows count too


def test_extensions_continue_a_context_as_one_call_would():
    """start(T0) then extend(T0 -> T1 -> T) gives a whole call's rows up to float rounding, computes only the
    new positions, and a row's values never depend on its neighbours, its slot or the other rows' chains."""
    model = build_model(model_size("t0"), 256)
    source = M1Source(model, init_params(model, seed=2), chunk_rows=4)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (6, 20)).astype(np.uint8)
    pool = source.prefix_pool(20)
    slots = pool.allocate(6)
    before = source.positions_evaluated
    first = source.start(batch[:, :5], pool, slots)
    middle = source.extend(batch[:, :12], 5, pool, slots)
    last = source.extend(batch, 12, pool, slots)
    assert source.positions_evaluated - before == 8 * (5 + 7 + 8)  # two chunks of 4 rows, new positions only
    chain = np.concatenate([first, middle, last], axis=1)
    np.testing.assert_allclose(chain, source.probs(batch), rtol=1e-5, atol=1e-6)
    # the decoder's side: the same chain over another batching, other slots, zeros past the row it needs
    for r in (0, 3, 5):
        known = batch[r : r + 1].copy()
        known[0, 15:] = 0
        np.testing.assert_array_equal(chained_probs(source, known, (5, 12, 20))[0, :16], chain[r, :16])
    # prefix states gathered in another order from other slots: bit-identical rows
    other = source.prefix_pool(20, 200)
    moved = other.allocate(9)[[8, 2, 5, 0, 7, 1]]
    source.start(batch[:, :5], other, moved)
    order = [4, 0, 5, 2, 1, 3]
    np.testing.assert_array_equal(source.extend(batch[order, :12], 5, other, moved[order]), middle[order])


@pytest.mark.slow
@pytest.mark.parametrize("label", ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256;reset=2]"])
def test_equal_info_roundtrip_with_context_extensions(m1_run, label):
    """Calibrated window ladders (a shared first position, then extensions) decode exactly, in fewer positions
    than whole window contexts."""
    from nc.coding import ContextPlan, decode_examples, encode_examples, make_encoder
    from nc.coding.engine import EncoderStats
    from nc.methods import parse_method

    source = load_probability_source(m1_run, call_memory_mb=8, max_rows=8)
    method = parse_method(label)
    rng = np.random.default_rng(4)
    examples = [bytes(rng.integers(97, 123, int(rng.integers(30, 200))).astype(np.uint8)) for _ in range(40)]
    whole = make_encoder(method, source, max_tokens=32)
    encode_examples(examples, method, source, max_tokens=32, encoder=whole)
    laddered = make_encoder(method, source, max_tokens=32, plan=ContextPlan("auto"))
    encode_examples(examples[:8], method, source, max_tokens=32, encoder=laddered)  # calibrates the ladder
    laddered.stats = EncoderStats()
    encoded = encode_examples(examples, method, source, max_tokens=32, encoder=laddered)
    decoded = decode_examples(encoded, method, source, batch_size=5)
    assert [i for i, (x, d, e) in enumerate(zip(examples, decoded, encoded)) if d != x[: e.num_bytes]] == []
    assert laddered.window_ladder()[0] == 1 and len(laddered.window_ladder()) > 2
    assert laddered.stats.positions < 0.6 * whole.stats.positions
