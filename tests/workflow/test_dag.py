"""The DAG itself: the paper scale plans every run quickly, lint is clean, the HTML report builds,
bad config fails at once."""
import base64
import re
import time

import pytest

from nc.analysis.paper import paper_table
from nc.methods import parse_method
from nc.models.sizes import PAPER_M2_SIZES

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every method of the paper's Table 12, from the copy of the paper's values shipped with nc.
TABLE12_METHODS = paper_table("table12_dataset_sizes").iloc[:, 0].tolist()


def job_counts(output: str) -> dict[str, int]:
    block = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


def test_paper_dry_run_lists_every_run(tmp_path, snakemake_run):
    start = time.perf_counter()
    result = snakemake_run(tmp_path, "-n", "--config", "scale=paper", "--printshellcmds", timeout=300)
    elapsed = time.perf_counter() - start
    out = result.stdout + result.stderr
    counts = job_counts(out)
    runs = set(re.findall(r"results/paper/m2/([a-z0-9-]+)/(\w+)/([a-z0-9-]+)/seed(\d+)/eval\.json", out))
    labels = TABLE12_METHODS
    for label in labels:
        slug = parse_method(label).slug
        assert {size for s, size, v, _ in runs if s == slug and v == "default"} == set(PAPER_M2_SIZES), label
    assert {seed for s, size, v, seed in runs if size == "25m" and s == "ac-v256"} == {"0", "1", "2", "3", "4"}
    assert counts["train_m2"] == len(runs) == 143
    assert counts["prepare_data"] == counts["train_m1"] == counts["collect_summaries"] == 1
    assert counts["compress_shard"] == 26 * (64 + 2)
    assert elapsed < 120, f"paper dry run took {elapsed:.0f} s"


def test_lint_is_clean(tmp_path, snakemake_run):
    """`snakemake --lint` has nothing to say about any rule or snakefile of the workflow."""
    result = snakemake_run(tmp_path, "--lint", "--config", "scale=smoke", timeout=120, check=False)
    out = result.stdout + result.stderr
    lints = [line for line in out.splitlines() if line.startswith("Lints for")]
    assert not lints, out[-6000:]
    assert result.returncode == 0, out[-6000:]
    assert "your workflow is in a good condition" in out, out[-6000:]


ANALYSIS_RULES = ("analysis_tables", "analysis_figures", "analysis_audit", "tokens_entropy", "tokens_stability",
                  "tokens_alignment", "tokens_text_tables")
CAPTIONS = ROOT / "src" / "nc" / "analysis" / "report"
# A valid 1x1 PNG: the report embeds each figure as an image.
ONE_PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def planned_outputs(dry_run_output: str, rules: tuple[str, ...]) -> list[str]:
    """Output files of the given rules' jobs, read from a dry run's job listing."""
    outputs = []
    for block in re.split(r"^(?=(?:local)?rule \w+:$)", dry_run_output, flags=re.M):
        head = re.match(r"(?:local)?rule (\w+):$", block, re.M)
        files = re.search(r"^    output: (.+)$", block, re.M)
        if head and files and head.group(1) in rules:
            outputs += files.group(1).split(", ")
    return outputs


def caption_opening(name: str) -> str:
    """A caption's opening words, up to its first markup or quote (the HTML renders or escapes those)."""
    return re.split(r"[*`'\"&<>]", (CAPTIONS / name).read_text())[0].strip()


@pytest.mark.slow
def test_report_embeds_every_figure_table_and_the_audit(tmp_path, snakemake_run):
    """`--report` over placeholder analysis outputs: each PNG figure, CSV table and the audit is in the HTML."""
    plan = snakemake_run(tmp_path, "-n", "--config", "scale=smoke", timeout=120)
    outputs = planned_outputs(plan.stdout + plan.stderr, ANALYSIS_RULES)
    figures = [p for p in outputs if "/figures/" in p and p.endswith(".png")]
    tables = [p for p in outputs if "/tables/" in p and p.endswith(".csv")]
    audit = [p for p in outputs if "/audit/" in p]
    assert len(figures) == 13 and len(tables) == 22 and len(audit) == 2, outputs
    for path in map(tmp_path.joinpath, outputs):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ONE_PIXEL_PNG if path.suffix == ".png" else b"a,b\n1,2\n")

    html_path = tmp_path / "report.html"
    snakemake_run(tmp_path, "--config", "scale=smoke", "--report", str(html_path), timeout=120)
    html = html_path.read_text()
    missing = [p for p in figures + tables + audit if p.rsplit("/", 1)[1] not in html]
    assert not missing, missing
    assert len(re.findall(r"data:image/png", html)) == len(figures)
    assert len(re.findall(r"data:text/csv", html)) == len(tables) + 1  # + the audit's claims.csv
    assert len(re.findall(r"data:text/markdown", html)) == 1  # the audit report
    assert html.count(caption_opening("figures.rst")) == len(figures)
    assert html.count(caption_opening("tables.rst")) == len(tables)
    assert html.count(caption_opening("audit.rst")) == len(audit)


def test_config_typo_fails_naming_the_key(tmp_path, snakemake_run):
    (tmp_path / "typo.yaml").write_text("m2:\n  seq_lenght: 512\n")
    result = snakemake_run(tmp_path, "-n", "--configfile", str(tmp_path / "typo.yaml"), timeout=120, check=False)
    assert result.returncode != 0
    assert "seq_lenght" in result.stdout + result.stderr
