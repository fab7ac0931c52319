"""Rule spelling_finetune: one line of Figure 13 (Appendix A.3)."""

from _log import setup

from nc.pipeline.steps import spelling_finetune

setup(snakemake)
spelling_finetune(
    snakemake.input.pretrained,
    snakemake.output.curve,
    scheme=snakemake.wildcards.scheme,
    spelling=snakemake.params.spelling,
    coding=snakemake.params.coding,
    m1_dir=snakemake.params.m1_dir,
    sentencepiece_model=snakemake.input.get("sentencepiece"),
)
