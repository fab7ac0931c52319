"""Entry points of the analysis rules: summaries in, tables / figures / audit report out.

Each function reads the collector's summary CSVs, builds the frames once (``analysis_frames``) and
writes its outputs atomically under the given directory, named as ``TABLE_NAMES`` / ``FIGURE_NAMES``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .audit import project_findings, training_devices, write_audit_report
from .figures import build_figures, position_accuracy, write_figures
from .options import AnalysisOptions
from .summary import Summary, load_summary, paper_size_map
from .tables import build_tables, write_tables


def analysis_frames(summary: Summary, options: AnalysisOptions) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every table, and Figure 10's per-position accuracies."""
    tables = build_tables(summary, options)
    sizes = paper_size_map(summary.runs["size"].unique().tolist(), options.paper_size_map)
    return tables, position_accuracy(summary.evals, options, sizes)


def write_analysis_tables(
    summary_csvs: Sequence[str | os.PathLike], out_dir: str | os.PathLike, options: AnalysisOptions
) -> list[Path]:
    """``summary_csvs`` = (runs.csv, evals.csv, compression.csv); writes ``out_dir/<table>.{csv,md}``."""
    tables, _ = analysis_frames(load_summary(*summary_csvs), options)
    return write_tables(tables, out_dir)


def write_analysis_figures(
    summary_csvs: Sequence[str | os.PathLike], out_dir: str | os.PathLike, options: AnalysisOptions
) -> list[Path]:
    """Writes ``out_dir/<figure>.{pdf,png}``."""
    tables, positions = analysis_frames(load_summary(*summary_csvs), options)
    return write_figures(build_figures(tables, positions, options), out_dir)


def write_audit(
    summary_csvs: Sequence[str | os.PathLike],
    report_path: str | os.PathLike,
    *,
    scale: str,
    options: AnalysisOptions,
    config: Mapping,
    data_files: Sequence[str | os.PathLike] = (),
    token_tables: Sequence[str | os.PathLike] = (),
    claims_csv: str | os.PathLike | None = None,
    repo_dir: str | os.PathLike = ".",
) -> pd.DataFrame:
    """Writes the audit report (and the claim verdicts as CSV); returns the verdicts."""
    summary = load_summary(*summary_csvs)
    tables, positions = analysis_frames(summary, options)
    tokens = {Path(p).stem: p for p in token_tables if str(p).endswith(".csv")}
    devices = training_devices(pd.read_csv(summary_csvs[0]))  # runs.csv
    return write_audit_report(
        report_path,
        scale=scale,
        tables=tables,
        positions=positions,
        options=options,
        config=config,
        data_files=data_files,
        token_tables=tokens,
        claims_csv=claims_csv,
        repo_dir=repo_dir,
        devices=devices,
        findings=project_findings(summary.compression),
    )
