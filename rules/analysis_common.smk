# Analysis settings, output lists and path helpers shared by rules/analysis.smk and
# rules/analysis_tokens.smk (definitions only: the rules are in those files).
# Knobs: config["analysis"] (schema: config/schema/analysis.schema.json; defaults: nc.analysis.options)
# and config["analysis"]["tokens"] (schema: config/schema/analysis_tokens.schema.json).
import os

from nc.analysis.names import FIGURE_NAMES, TABLE_NAMES
from nc.analysis.options import AnalysisOptions
from nc.analysis.token_text import TokenAnalysisOptions
from nc.methods import parse_method
from nc.sections import CodingConfig

_ANALYSIS_SECTION = dict(config.get("analysis") or {})
_ANALYSIS_SECTION.setdefault("m1_size", (config.get("m1") or {}).get("size"))
ANALYSIS_OPTIONS = AnalysisOptions.from_config(_ANALYSIS_SECTION)
TOKEN_OPTIONS = TokenAnalysisOptions.from_config((config.get("analysis") or {}).get("tokens"))
KL_METHODS = {parse_method(m).label: parse_method(m).slug for m in TOKEN_OPTIONS.kl_methods}
# The token analyses code text as the datasets were coded (the same value as rules/common.smk's CODING;
# built here too so that rules/analysis_tokens.smk works on its own).
TOKEN_CODING = CodingConfig.from_config(config["coding"])

# Captions of the `snakemake --report` categories, relative to rules/.
_CAPTIONS = "../src/nc/analysis/report"
_CAPTION_FILES = {"Figures": "figures.rst", "Tables": "tables.rst", "Audit": "audit.rst"}


def reported(path, category):
    """``path`` annotated for `snakemake --report` under ``category`` (Figures, Tables or Audit)."""
    return report(path, caption=f"{_CAPTIONS}/{_CAPTION_FILES[category]}", category=category)


def token_figure(name, in_report=False):
    """R/figures/<name> as PDF and PNG; with ``in_report`` the PNG is shown in the HTML report."""
    png = f"{RESULTS}/figures/{name}.png"
    return [f"{RESULTS}/figures/{name}.pdf", reported(png, "Figures") if in_report else png]


def token_table(name, in_report=False):
    """R/tables/<name> as CSV and Markdown; with ``in_report`` the CSV is shown in the HTML report."""
    csv = f"{RESULTS}/tables/{name}.csv"
    return [reported(csv, "Tables") if in_report else csv, f"{RESULTS}/tables/{name}.md"]


def output_dir(wildcards, output):
    """The directory of a rule's first output (tables/ or figures/), for scripts that write many files."""
    return os.path.dirname(output[0])


ANALYSIS_TABLES = [f"{RESULTS}/tables/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md")]
ANALYSIS_FIGURES = [f"{RESULTS}/figures/{name}.{ext}" for name in FIGURE_NAMES for ext in ("pdf", "png")]
TOKEN_ANALYSIS_TARGETS = (
    token_table("fig11_kl") + token_table("fig16_entropy_noise")
    + token_figure("fig11_kl") + token_figure("fig16_entropy_noise") + token_figure("fig17_kl_miller_madow")
    + token_table("fig08_edit_distance") + token_table("fig08_edit_distance_summary")
    + token_figure("fig08_edit_distance")
    + token_figure("fig09_alignment")
    + token_table("table07_token_text") + token_table("table08_window_text")
    + token_table("table14_repeated_tokens") + token_table("table14_repeated_fraction")
)
AUDIT_REPORT = f"{RESULTS}/audit/report.md"
AUDIT_CLAIMS = f"{RESULTS}/audit/claims.csv"
ANALYSIS_TARGETS = ANALYSIS_TABLES + ANALYSIS_FIGURES + TOKEN_ANALYSIS_TARGETS + [AUDIT_REPORT, AUDIT_CLAIMS]
