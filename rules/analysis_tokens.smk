# Token-level analyses (Section 6.1, 6.3; Appendix C, D.6, D.8): Figures 8, 9, 11, 16, 17 and
# Tables 7, 8, 14. Included by rules/analysis.smk; its settings and helpers (TOKEN_OPTIONS, KL_METHODS,
# token_figure, token_table) and the list of these outputs, TOKEN_ANALYSIS_TARGETS, are in
# rules/analysis_common.smk, included here too so that this file also works on its own.
# Knobs: config["analysis"]["tokens"] (schema: config/schema/analysis_tokens.schema.json).

include: "analysis_common.smk"


rule tokens_entropy:
    """Figures 11, 16, 17: KL from uniform of bit n-grams and n-bit tokens, with an RNG baseline."""
    input:
        [f"{RESULTS}/compression/{slug}/m2_train/manifest.json" for slug in KL_METHODS.values()],
    output:
        kl=token_table("fig11_kl", in_report=True),
        noise=token_table("fig16_entropy_noise", in_report=True),
        fig11=token_figure("fig11_kl", in_report=True),
        fig16=token_figure("fig16_entropy_noise", in_report=True),
        fig17=token_figure("fig17_kl_miller_madow", in_report=True),
    params:
        datasets={label: f"{RESULTS}/compression/{slug}/m2_train/manifest.json" for label, slug in KL_METHODS.items()},
        options=TOKEN_OPTIONS,
    log:
        f"{RESULTS}/logs/tokens_entropy.log",
    script:
        "../workflow/scripts/tokens_entropy.py"


rule tokens_stability:
    """Figure 8: edit distances between tokenisations of one-word-prefixed validation sentences."""
    input:
        valid=f"{RESULTS}/data/valid/manifest.json",
        spm=f"{RESULTS}/sentencepiece/spm.model",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        hist=token_table("fig08_edit_distance", in_report=True),
        summary=token_table("fig08_edit_distance_summary", in_report=True),
        figure=token_figure("fig08_edit_distance", in_report=True),
    params:
        options=TOKEN_OPTIONS,
        coding=TOKEN_CODING,
    log:
        f"{RESULTS}/logs/tokens_stability.log",
    script:
        "../workflow/scripts/tokens_stability.py"


rule tokens_alignment:
    """Figure 9: character / bit / token alignment of EqualInfoAC[b=16;v=256] windows."""
    input:
        valid=f"{RESULTS}/data/valid/manifest.json",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        figure=token_figure("fig09_alignment", in_report=True),
    params:
        options=TOKEN_OPTIONS,
        coding=TOKEN_CODING,
    log:
        f"{RESULTS}/logs/tokens_alignment.log",
    script:
        "../workflow/scripts/tokens_alignment.py"


rule tokens_text_tables:
    """Tables 7, 8, 14: token -> text for SentencePiece and EqualInfoAC, repeated-token share."""
    input:
        valid=f"{RESULTS}/data/valid/manifest.json",
        spm=f"{RESULTS}/sentencepiece/spm.model",
        m1=f"{RESULTS}/m1/eval.json",
    output:
        table7=token_table("table07_token_text", in_report=True),
        table8=token_table("table08_window_text", in_report=True),
        table14=token_table("table14_repeated_tokens", in_report=True),
        repeated=token_table("table14_repeated_fraction", in_report=True),
    params:
        options=TOKEN_OPTIONS,
        coding=TOKEN_CODING,
    log:
        f"{RESULTS}/logs/tokens_text_tables.log",
    script:
        "../workflow/scripts/tokens_text_tables.py"
