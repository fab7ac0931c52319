"""Every table, figure and the audit report built from a synthetic summary into a temporary directory."""

import pandas as pd
import pytest
from synthetic_runs import make_frames, spelling_curves

from nc.analysis.figures import fig04_measured_bytes_per_step
from nc.analysis.names import FIGURE_NAMES, TABLE_NAMES
from nc.analysis.options import AnalysisOptions
from nc.analysis.outputs import write_analysis_figures, write_analysis_tables, write_audit


@pytest.fixture(scope="module")
def summary_csvs(tmp_path_factory):
    root = tmp_path_factory.mktemp("summary")
    paths = [root / "runs.csv", root / "evals.csv", root / "compression.csv", root / "spelling.csv"]
    for df, path in zip((*make_frames(), spelling_curves()), paths):
        df.to_csv(path, index=False)
    return paths


@pytest.mark.slow
def test_every_output_is_written(summary_csvs, tmp_path):
    opts = AnalysisOptions.from_config({"m1_size": "t0"})
    tables = write_analysis_tables(summary_csvs, tmp_path / "tables", opts)
    figures = write_analysis_figures(summary_csvs, tmp_path / "figures", opts)
    data = tmp_path / "valid.npz"
    data.write_bytes(b"example bytes")
    token_csv = tmp_path / "tables" / "fig11_kl.csv"
    token_csv.write_text("method,n,kl\nAC[v=256],1,0.001\n")
    claims = write_audit(
        summary_csvs,
        tmp_path / "audit" / "report.md",
        scale="tiny",
        options=opts,
        config={"scale": "tiny"},
        data_files=[data],
        token_tables=[token_csv],
        claims_csv=tmp_path / "audit" / "claims.csv",
        repo_dir=tmp_path,
    )
    expected = [tmp_path / "tables" / f"{n}.{e}" for n in TABLE_NAMES for e in ("csv", "md")]
    expected += [tmp_path / "figures" / f"{n}.{e}" for n in FIGURE_NAMES for e in ("pdf", "png")]
    assert sorted(tables + figures) == sorted(expected)
    for path in expected + [tmp_path / "audit" / "report.md", tmp_path / "audit" / "claims.csv"]:
        assert path.stat().st_size > 0, path
    assert not list(tmp_path.rglob("*.tmp"))  # nothing partial left behind
    report = (tmp_path / "audit" / "report.md").read_text()
    assert "not expected to match" in report and "not a git checkout" in report
    assert "fig11_kl" in report and "Figure 11" in report
    assert "| `" + str(data) + "` |" in report
    assert (claims["verdict"] == "holds").all()
    t15 = pd.read_csv(tmp_path / "tables" / "table15_fig3_values.csv")
    assert {"bits_per_byte", "paper_bits_per_byte", "mflops_per_byte", "paper_mflops_per_byte"} <= set(t15.columns)


@pytest.mark.slow
def test_outputs_exist_without_any_runs(tmp_path):
    """A configuration whose studies produced nothing still yields every file (figures say 'no runs')."""
    runs, evals, comp = (df.iloc[0:0] for df in make_frames())
    root = tmp_path / "summary"
    root.mkdir()
    paths = [root / "runs.csv", root / "evals.csv", root / "compression.csv"]
    for df, path in zip((runs, evals, comp), paths):
        df.to_csv(path, index=False)
    opts = AnalysisOptions.from_config({"m1_size": "t0"})
    written = write_analysis_tables(paths, tmp_path / "tables", opts) + write_analysis_figures(
        paths, tmp_path / "figures", opts
    )
    assert len(written) == 2 * (len(TABLE_NAMES) + len(FIGURE_NAMES))
    claims = write_audit(paths, tmp_path / "audit" / "report.md", scale="smoke", options=opts, config={})
    assert (claims["verdict"] == "not testable").all()


def test_measured_figure4_places_each_method_at_its_measured_and_its_ratio_bytes_per_step():
    measured = pd.DataFrame(
        {
            "method": ["Bytes", "EqualInfoAC[b=16;v=65k]"],
            "bits_per_byte": [3.1, 3.4],
            "compression_ratio": [1.0, 2.7],
            "bytes_per_step": [1.0, 2.2],
        }
    )
    fig = fig04_measured_bytes_per_step(measured)
    filled, hollow = {}, {}
    for collection in fig.axes[0].collections:
        offsets = collection.get_offsets()
        if len(offsets):
            target = hollow if not len(collection.get_facecolors()) else filled
            target[collection.get_label()] = tuple(offsets[0])
    assert filled["Bytes"] == (1.0, 3.1) and filled["EqualInfoAC[b=16;v=65k]"] == (2.2, 3.4)
    assert sorted(hollow.values()) == [(1.0, 3.1), (2.7, 3.4)]
    empty = fig04_measured_bytes_per_step(measured.iloc[:0])
    assert "no runs for generation" in [t.get_text() for t in empty.axes[0].texts]
