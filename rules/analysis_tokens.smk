# Token-level analyses (Section 6.1, 6.3; Appendix C, D.6, D.8): Figures 8, 9, 11, 16, 17 and
# Tables 7, 8, 14. Included by rules/analysis.smk, which requests TOKEN_ANALYSIS_TARGETS.
# Knobs: config["analysis"]["tokens"] (schema: config/schema/analysis_tokens.schema.json).
from nc.analysis.token_text import TokenAnalysisOptions
from nc.methods import parse_method

TOKEN_OPTIONS = TokenAnalysisOptions.from_config((config.get("analysis") or {}).get("tokens"))
KL_METHODS = {parse_method(m).label: parse_method(m).slug for m in TOKEN_OPTIONS.kl_methods}


def _both(stem):
    return [f"{stem}.pdf", f"{stem}.png"]


def _table(stem):
    return [f"{stem}.csv", f"{stem}.md"]


TOKEN_ANALYSIS_TARGETS = (
    _table(f"{RESULTS}/tables/fig11_kl") + _table(f"{RESULTS}/tables/fig16_entropy_noise")
    + _both(f"{RESULTS}/figures/fig11_kl") + _both(f"{RESULTS}/figures/fig16_entropy_noise")
    + _both(f"{RESULTS}/figures/fig17_kl_miller_madow")
    + _table(f"{RESULTS}/tables/fig08_edit_distance") + _table(f"{RESULTS}/tables/fig08_edit_distance_summary")
    + _both(f"{RESULTS}/figures/fig08_edit_distance")
    + _both(f"{RESULTS}/figures/fig09_alignment")
    + _table(f"{RESULTS}/tables/table07_token_text") + _table(f"{RESULTS}/tables/table08_window_text")
    + _table(f"{RESULTS}/tables/table14_repeated_tokens") + _table(f"{RESULTS}/tables/table14_repeated_fraction")
)


rule tokens_entropy:
    """Figures 11, 16, 17: KL from uniform of bit n-grams and n-bit tokens, with an RNG baseline."""
    input:
        [f"{RESULTS}/compression/{slug}/m2_train/meta.json" for slug in KL_METHODS.values()],
    output:
        kl=_table(f"{RESULTS}/tables/fig11_kl"),
        noise=_table(f"{RESULTS}/tables/fig16_entropy_noise"),
        fig11=_both(f"{RESULTS}/figures/fig11_kl"),
        fig16=_both(f"{RESULTS}/figures/fig16_entropy_noise"),
        fig17=_both(f"{RESULTS}/figures/fig17_kl_miller_madow"),
    params:
        datasets={label: f"{RESULTS}/compression/{slug}/m2_train" for label, slug in KL_METHODS.items()},
        options=TOKEN_OPTIONS,
    script:
        "../workflow/scripts/tokens_entropy.py"


rule tokens_stability:
    """Figure 8: edit distances between tokenisations of one-word-prefixed validation sentences."""
    input:
        valid=f"{RESULTS}/data/valid.npz",
        spm=f"{RESULTS}/sentencepiece/spm.model",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        hist=_table(f"{RESULTS}/tables/fig08_edit_distance"),
        summary=_table(f"{RESULTS}/tables/fig08_edit_distance_summary"),
        figure=_both(f"{RESULTS}/figures/fig08_edit_distance"),
    params:
        options=TOKEN_OPTIONS,
    script:
        "../workflow/scripts/tokens_stability.py"


rule tokens_alignment:
    """Figure 9: character / bit / token alignment of EqualInfoAC[b=16;v=256] windows."""
    input:
        valid=f"{RESULTS}/data/valid.npz",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        figure=_both(f"{RESULTS}/figures/fig09_alignment"),
    params:
        options=TOKEN_OPTIONS,
    script:
        "../workflow/scripts/tokens_alignment.py"


rule tokens_text_tables:
    """Tables 7, 8, 14: token -> text for SentencePiece and EqualInfoAC, repeated-token share."""
    input:
        valid=f"{RESULTS}/data/valid.npz",
        spm=f"{RESULTS}/sentencepiece/spm.model",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        table7=_table(f"{RESULTS}/tables/table07_token_text"),
        table8=_table(f"{RESULTS}/tables/table08_window_text"),
        table14=_table(f"{RESULTS}/tables/table14_repeated_tokens"),
        repeated=_table(f"{RESULTS}/tables/table14_repeated_fraction"),
    params:
        options=TOKEN_OPTIONS,
    script:
        "../workflow/scripts/tokens_text_tables.py"
