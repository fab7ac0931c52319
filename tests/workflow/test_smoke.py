"""The whole smoke DAG end to end, then a partial rerun that only redoes what was deleted."""

import pandas as pd
import pytest

from nc.analysis.paper import figure3_methods

# The worker of the SLURM tests runs these too: they check the session's one smoke run (conftest.py).
pytestmark = [pytest.mark.workflow, pytest.mark.slow, pytest.mark.xdist_group("slurm")]


def test_the_slurm_group_reaches_one_worker(request):
    """The smoke DAG runs once only if this group stays on one worker: pytest-xdist marks a grouped test's
    node id with ``@group`` (pytest 9.2 drops the mark, and each worker then ran the DAG again)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run under --dist loadgroup")
    assert request.node.nodeid.endswith("@slurm"), request.node.nodeid


@pytest.fixture(scope="module")
def smoke_dir(smoke_run):
    return smoke_run.workdir


# Every table and figure of the paper the workflow regenerates (figures as PDF and PNG, tables as CSV
# and Markdown), named by the paper's numbering.
PAPER_FIGURES = (3, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15, 16, 17)
PAPER_TABLES = (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)


def test_smoke_dag_builds_every_output(smoke_dir, snakemake_run):
    results = smoke_dir / "results" / "smoke"
    for name in ("runs.csv", "evals.csv", "compression.csv"):
        assert (results / "summary" / name).stat().st_size > 0
    header = (results / "summary" / "runs.csv").read_text().splitlines()[0]
    assert header.startswith("method,paper_label,slug,kind,token_bits,window_bits,size,variant,seed,nominal_params")
    for number in PAPER_FIGURES:
        for suffix in (".pdf", ".png"):
            found = [p for p in (results / "figures").glob(f"fig{number:02d}_*{suffix}") if p.stat().st_size > 0]
            assert found, f"figure {number} ({suffix}) is missing"
    for number in PAPER_TABLES:
        for suffix in (".csv", ".md"):
            found = [p for p in (results / "tables").glob(f"table{number:02d}_*{suffix}") if p.stat().st_size > 0]
            assert found, f"table {number} ({suffix}) is missing"
    assert (results / "tables" / "welch_tests.csv").stat().st_size > 0
    # Figure 4 measured: every Figure 3 method generated text at the smallest size.
    measured = pd.read_csv(results / "tables" / "fig04_measured.csv").set_index("method")
    assert list(measured.index) == [method.label for method in figure3_methods()]
    assert (measured["size"] == "s1").all() and (measured["steps"] > 0).all()
    assert measured.loc["Bytes", "bytes_per_step"] == 1.0
    assert (
        "Verdict" in (results / "audit" / "report.md").read_text()
        or "verdict" in (results / "audit" / "report.md").read_text()
    )
    assert not list(results.rglob("*.tmp")) and not list(results.rglob(".*.tmp"))
    # Nothing left to do: every target of `rule all` exists and is up to date.
    dry = snakemake_run(smoke_dir, "-n", "--config", "scale=smoke", timeout=300)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_partial_rerun_only_redoes_the_deleted_target(smoke_dir, snakemake_run):
    results = smoke_dir / "results" / "smoke"
    target = results / "summary" / "compression.csv"
    figures = sorted((results / "figures").glob("*.png")) if (results / "figures").exists() else []
    if figures:
        target = figures[0]
    target.unlink()
    relative = str(target.relative_to(smoke_dir))
    # Targets go before --config, which reads every following word as key=value.
    dry = snakemake_run(smoke_dir, "-n", relative, "--config", "scale=smoke", timeout=300)
    out = dry.stdout + dry.stderr
    assert "train_m2" not in out and "compress_shard" not in out and "train_m1" not in out
    snakemake_run(smoke_dir, "--cores", "2", relative, "--config", "scale=smoke", timeout=600)
    assert target.exists()
