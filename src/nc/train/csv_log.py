"""Metric logs (``metrics.csv``, ``evals.csv``) that stay consistent with the checkpoints.

Rows are kept in memory and the whole file is rewritten atomically at each checkpoint (before the
checkpoint itself is saved). On resume from step k, rows after k are dropped: they belong to steps
the resumed run will redo. The file is therefore never partial and never holds a step twice.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nc.io import write_text


class CsvLog:
    def __init__(self, path: str | Path, columns: list[str]):
        if "step" not in columns:
            raise ValueError("a metric log needs a 'step' column")
        self.path = Path(path)
        self.columns = list(columns)
        self.rows: list[dict] = []

    def resume(self, step: int) -> None:
        """Load the existing file, keeping only rows with step <= ``step``."""
        self.rows = []
        if step <= 0 or not self.path.exists():
            return
        with open(self.path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != self.columns:
                raise ValueError(f"{self.path} has columns {reader.fieldnames}, expected {self.columns}")
            self.rows = [row for row in reader if int(row["step"]) <= step]

    def append(self, row: dict) -> None:
        missing = set(self.columns) - set(row)
        if missing:
            raise KeyError(f"metric row lacks columns {sorted(missing)}")
        self.rows.append({k: row[k] for k in self.columns})

    def flush(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(self.path, buf.getvalue())
