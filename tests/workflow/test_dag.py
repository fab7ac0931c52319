"""The DAG itself: the paper scale plans every run quickly, lint is clean, the HTML report builds,
bad config fails at once."""

import base64
import re
import time
from pathlib import Path

import pytest

from nc.analysis.paper import paper_table
from nc.methods import parse_method
from nc.models.sizes import PAPER_M2_SIZES

ROOT = Path(__file__).resolve().parents[2]

# Every method of the paper's Table 12, from the copy of the paper's values shipped with nc.
TABLE12_METHODS = paper_table("table12_dataset_sizes").iloc[:, 0].tolist()


def job_counts(output: str) -> dict[str, int]:
    block = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


def job_blocks(output: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"^(?=(?:local)?rule \w+:$)", output, flags=re.M):
        head = re.match(r"(?:local)?rule (\w+):$", block, re.M)
        if not head:
            continue
        fields = {}
        for key in ("wildcards", "resources"):
            line = re.search(rf"^    {key}: (.+)$", block, re.M)
            fields[key] = dict(item.split("=", 1) for item in line.group(1).split(", ")) if line else {}
        jobs.append((head.group(1), fields["wildcards"], fields["resources"]))
    return jobs


@pytest.fixture(scope="module")
def paper_dry_run(tmp_path_factory, snakemake_run):
    """The paper DAG through the SLURM profile, as users plan it; and how long planning took."""
    start = time.perf_counter()
    result = snakemake_run(
        tmp_path_factory.mktemp("paper"),
        "-n",
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        "--config",
        "scale=paper",
        timeout=300,
    )
    return result.stdout + result.stderr, time.perf_counter() - start


def test_paper_dry_run_lists_every_run(paper_dry_run):
    out, elapsed = paper_dry_run
    counts = job_counts(out)
    runs = set(re.findall(r"results/paper/m2/([a-z0-9-]+)/(\w+)/([a-z0-9-]+)/seed(\d+)/eval\.json", out))
    labels = TABLE12_METHODS
    for label in labels:
        slug = parse_method(label).slug
        assert {size for s, size, v, _ in runs if s == slug and v == "default"} == set(PAPER_M2_SIZES), label
    assert {seed for s, size, v, seed in runs if size == "25m" and s == "ac-v256"} == {"0", "1", "2", "3", "4"}
    # Section 5.1: M2 over AC's bits (v=2) at 25m and 403m
    assert {(size, seed) for s, size, v, seed in runs if s == "ac-v2"} == {("25m", "0"), ("403m", "0")}
    assert counts["train_m2"] == len(runs) == 145
    assert counts["train_m1"] == counts["collect_summaries"] == counts["byte_unigram"] == 1
    assert counts["corpus_part"] == 64 + 8 and counts["split_shard"] == 512 + 512 + 1 and counts["split_manifest"] == 3
    assert counts["compress_shard"] == 27 * (64 + 2) and counts["method_manifests"] == 27
    assert counts["spelling_finetune"] == 3  # Figure 13: EqualInfoAC (ByT5 ids), SentencePiece shared / characters
    assert counts["seq2seq_shard"] == 2 * (64 + 1) and counts["seq2seq_manifests"] == 2 * 2
    assert elapsed < 120, f"paper dry run took {elapsed:.0f} s"


def test_paper_training_jobs_are_pinned_to_their_nodes(paper_dry_run):
    """Every job that asks for GPUs asks for its node count (1 unless it trains over several), so its GPUs
    are never split across nodes by chance."""
    out, _ = paper_dry_run
    nodes = {}
    for rule, wildcards, resources in job_blocks(out):
        if int(resources.get("gpu", 0)) > 0:
            nodes.setdefault((rule, wildcards.get("size")), set()).add(int(resources["nodes"]))
    assert nodes[("train_m2", "2b")] == {2}
    assert all(n == {1} for key, n in nodes.items() if key != ("train_m2", "2b")), nodes


def test_paper_jobs_ask_for_gpus_only_where_m1_or_m2_runs(paper_dry_run):
    """No job of a method without M1 (Bytes, SentencePiece, GZip, StaticAC), and no data job, asks for a GPU."""
    out, _ = paper_dry_run
    gpus = {}
    for rule, wildcards, resources in job_blocks(out):
        gpus.setdefault(rule, set()).add(int(resources.get("gpu", 0)))
        if rule in ("compress_shard", "seq2seq_shard"):
            assert (int(resources["gpu"]) > 0) == parse_method(wildcards["slug"]).uses_m1, (rule, wildcards)
    assert gpus["compress_shard"] == {0, 1} and gpus["train_m2"] == {4, 8, 16}
    for rule in (
        "corpus_part",
        "split_shard",
        "split_manifest",
        "byte_unigram",
        "method_manifests",
        "train_sentencepiece",
        "collect_summaries",
    ):
        assert gpus[rule] == {0}, rule


# Rules run in the environment Snakemake runs in (docs/RUNNING.md): the one lint that asks every rule
# for a conda environment or container is expected, and only it.
SOFTWARE_ENV_LINT = "* Specify a conda environment or container for each rule."


def test_lint_is_clean(tmp_path, snakemake_run):
    """`snakemake --lint` has nothing to say about any rule or snakefile of the workflow but that rules
    declare no software environment."""
    result = snakemake_run(tmp_path, "--lint", "--config", "scale=smoke", timeout=120, check=False)
    out = result.stdout + result.stderr
    findings = [line.strip() for line in out.splitlines() if line.startswith("    * ")]
    assert findings, out[-6000:]  # the software-environment lint, once per rule
    assert {f.rstrip(":") for f in findings} == {SOFTWARE_ENV_LINT}, out[-6000:]
    assert not [line for line in out.splitlines() if line.startswith("Lints for snakefile")], out[-6000:]


def test_no_rule_needs_conda(tmp_path, snakemake_run):
    """`--sdm conda` plans the smoke DAG on a machine without conda: no rule declares an environment to
    build (each would be built from a copy of its file, where the project cannot be installed)."""
    result = snakemake_run(tmp_path, "-n", "--sdm", "conda", "--config", "scale=smoke", timeout=120, check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert not re.search(r"conda (info|env|environment)", out, re.I), out[-6000:]


ANALYSIS_RULES = (
    "analysis_tables",
    "analysis_figures",
    "analysis_audit",
    "tokens_entropy",
    "tokens_stability",
    "tokens_alignment",
    "tokens_text_tables",
)
CAPTIONS = ROOT / "src" / "nc" / "analysis" / "report"
# A valid 1x1 PNG: the report embeds each figure as an image.
ONE_PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def planned_outputs(dry_run_output: str, rules: tuple[str, ...]) -> list[str]:
    """Output files of the given rules' jobs, read from a dry run's job listing."""
    outputs: list[str] = []
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
    assert len(figures) == 14 and len(tables) == 24 and len(audit) == 2, outputs  # + Figure 13, Section 5.1
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
