"""Independent cross-check of `nc.coding`'s arithmetic coder against tensorflow-compression's range coder.

The paper coded with TFC's range coder at precision 14 (Section 3.3). TFC 2.14 needs numpy<2, so it lives
in its own virtualenv (`scripts/make_tfc_venv.sh` -> `.venv-tfc`) and is driven through
`scripts/tfc_reference.py` in a subprocess. Both coders get the very same integer CDFs (quantised once by
`nc.coding.quantize_cdfs`), so any size difference is the coders' own.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TFC_PYTHON = REPO_ROOT / ".venv-tfc" / "bin" / "python"
TFC_SCRIPT = REPO_ROOT / "scripts" / "tfc_reference.py"

PRECISION = 14
NUM_SYMBOLS = 100_000
ALPHABET_SIZE = 256
SEED = 20240412
MAX_RELATIVE_SIZE_GAP = 0.005  # our stream within 0.5% of TFC's
TFC_APIS = ("index", "legacy")

pytestmark = [
    pytest.mark.tfc,
    pytest.mark.skipif(
        not TFC_PYTHON.exists(),
        reason=f"tensorflow-compression reference venv {TFC_PYTHON.parent.parent} is absent: "
        "create it with scripts/make_tfc_venv.sh",
    ),
]


def draw_positions(num_symbols: int, alphabet_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-position distributions shaped like a byte LM's, and one symbol drawn from each.

    Row i is softmax(z_i * t_i) with z_i ~ N(0, 1)^A and a per-row sharpness t_i ~ logUniform(0.1, 10),
    so entropies span ~0 to ~8 bits and many rows put mass far below 2**-precision on most symbols
    (the regime where the minimum count of 1 and the coder's register width matter).
    Returns (probs float32 [N, A], symbols int64 [N]).
    """
    rng = np.random.default_rng(seed)
    sharpness = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=(num_symbols, 1)))
    logits = rng.standard_normal((num_symbols, alphabet_size)) * sharpness
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    # Inverse-CDF sampling; the clip guards against a float cumsum ending a hair below u.
    uniforms = rng.random((num_symbols, 1))
    symbols = np.minimum((np.cumsum(probs, axis=1) < uniforms).sum(axis=1), alphabet_size - 1)
    return probs.astype(np.float32), symbols.astype(np.int64)


def quantised_ideal_bits(symbols: np.ndarray, cdfs: np.ndarray, precision: int) -> float:
    """-sum log2 q(symbol) under the quantised distributions q = diff(cdf) / 2**precision."""
    rows = np.arange(symbols.shape[0])
    counts = (cdfs[rows, symbols + 1] - cdfs[rows, symbols]).astype(np.float64)
    return float(np.sum(precision - np.log2(counts)))


def run_tfc_reference(symbols: np.ndarray, cdfs: np.ndarray, work_dir: Path) -> subprocess.CompletedProcess:
    """Save the inputs as .npy and code them with TFC in `.venv-tfc` (both APIs)."""
    np.save(work_dir / "symbols.npy", symbols)
    np.save(work_dir / "cdfs.npy", cdfs)
    command = [
        str(TFC_PYTHON),
        str(TFC_SCRIPT),
        "--symbols",
        str(work_dir / "symbols.npy"),
        "--cdfs",
        str(work_dir / "cdfs.npy"),
        "--out-dir",
        str(work_dir / "tfc"),
        "--precision",
        str(PRECISION),
        "--api",
        "both",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def cross_check(tmp_path_factory):
    """Quantise once, code with TFC and with nc.coding; returns everything the tests compare."""
    from nc.coding import decode_with_cdfs, encode_with_cdfs, quantize_cdfs

    probs, symbols = draw_positions(NUM_SYMBOLS, ALPHABET_SIZE, SEED)
    rows = np.arange(NUM_SYMBOLS)
    ideal_bits = float(-np.sum(np.log2(probs[rows, symbols].astype(np.float64))))
    cdfs = quantize_cdfs(probs, PRECISION)
    del probs

    work_dir = tmp_path_factory.mktemp("tfc_cross_check")
    completed = run_tfc_reference(symbols, cdfs, work_dir)
    assert completed.returncode == 0, f"tfc_reference.py failed:\n{completed.stdout}\n{completed.stderr}"
    tfc_result = json.loads((work_dir / "tfc" / "result.json").read_text())
    tfc_decoded = {api: np.load(work_dir / "tfc" / f"decoded_{api}.npy") for api in TFC_APIS}

    packed, our_bits = encode_with_cdfs(symbols, cdfs, PRECISION)
    our_decoded = decode_with_cdfs(packed, our_bits, cdfs, PRECISION)
    return {
        "symbols": symbols,
        "ideal_bits": ideal_bits,
        "quantised_ideal_bits": quantised_ideal_bits(symbols, cdfs, PRECISION),
        "tfc": tfc_result,
        "tfc_decoded": tfc_decoded,
        "our_bits": our_bits,
        "our_packed_bytes": len(packed),
        "our_decoded": our_decoded,
    }


def test_draws_cover_low_and_high_entropy_positions():
    """The test distribution must exercise both near-deterministic and near-uniform positions."""
    probs, symbols = draw_positions(2_000, ALPHABET_SIZE, SEED)
    entropy_bits = -np.sum(probs * np.log2(np.maximum(probs, 1e-30)), axis=1)
    assert entropy_bits.min() < 1.0 and entropy_bits.max() > 7.0
    assert np.mean(probs < 2.0**-PRECISION) > 0.2  # mass below the quantiser's floor is common
    assert symbols.min() >= 0 and symbols.max() < ALPHABET_SIZE


@pytest.mark.slow
@pytest.mark.parametrize("api", TFC_APIS)
def test_tfc_round_trips_exactly(cross_check, api):
    coder = cross_check["tfc"]["coders"][api]
    np.testing.assert_array_equal(cross_check["tfc_decoded"][api], cross_check["symbols"])
    assert coder["round_trip"]
    assert coder["decoder_finalize_ok"] is (True if api == "index" else None)  # legacy ops have no check


@pytest.mark.slow
def test_ours_round_trips_exactly(cross_check):
    np.testing.assert_array_equal(cross_check["our_decoded"], cross_check["symbols"])
    assert cross_check["our_packed_bytes"] == math.ceil(cross_check["our_bits"] / 8)


@pytest.mark.slow
def test_tfc_reference_is_near_the_quantised_ideal(cross_check):
    """TFC's 32-bit range coder should sit within a few bytes of -sum log2 q: a trustworthy yardstick."""
    quantised_ideal = cross_check["quantised_ideal_bits"]
    assert cross_check["tfc"]["ideal_bits"] == pytest.approx(quantised_ideal, rel=1e-9)
    for api in TFC_APIS:
        tfc_bits = cross_check["tfc"]["coders"][api]["encoded_bits"]
        assert quantised_ideal - 64 <= tfc_bits <= quantised_ideal * 1.001 + 64


@pytest.mark.slow
def test_our_size_within_half_percent_of_tfc(cross_check, capsys):
    tfc_bits = cross_check["tfc"]["coders"]["index"]["encoded_bits"]
    our_bits = cross_check["our_bits"]
    ratio = our_bits / tfc_bits
    with capsys.disabled():
        print(
            f"\n[tfc cross-check] {NUM_SYMBOLS} symbols, precision {PRECISION}: "
            f"ideal -sum log2 p = {cross_check['ideal_bits']:.0f} bits, "
            f"quantised ideal = {cross_check['quantised_ideal_bits']:.0f} bits, "
            f"TFC range coder = {tfc_bits} bits, nc.coding = {our_bits} bits, ours/TFC = {ratio:.5f}",
            file=sys.stderr,
        )
    assert abs(ratio - 1.0) <= MAX_RELATIVE_SIZE_GAP, f"ours/TFC = {ratio:.5f}"


def test_reference_script_rejects_invalid_cdfs(tmp_path):
    """A CDF row that does not total 2**precision is refused by name, and nothing is written."""
    symbols = np.array([0, 1, 2], dtype=np.int64)
    cdfs = np.tile(np.array([0, 100, 200, 1 << PRECISION], dtype=np.int32), (3, 1))
    cdfs[1, -1] = (1 << PRECISION) - 1
    completed = run_tfc_reference(symbols, cdfs, tmp_path)
    assert completed.returncode == 2
    assert "2**precision" in completed.stderr and "row 1" in completed.stderr
    assert not (tmp_path / "tfc" / "result.json").exists()
