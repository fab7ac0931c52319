# nc: "Training LLMs over Neurally Compressed Text" (Lester et al., TMLR 2024), end to end.
#   snakemake --cores 2                       # tiny scale (config/config.yaml)
#   snakemake --cores 2 --config scale=smoke  # CI scale
# Results go to results/<scale>/ (layout: docs/ARCHITECTURE.md, results/README.md).
import os

configfile: os.path.join(workflow.basedir, "config", "config.yaml")

include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/m1.smk"
include: "rules/baselines.smk"
include: "rules/compress.smk"
include: "rules/m2.smk"
include: "rules/spelling.smk"
include: "rules/analysis.smk"


rule all:
    default_target: True
    input:
        ANALYSIS_TARGETS,
        GENERATION_TARGETS,


# Aggregation over finished runs and manifests of shards: seconds of CPU on small CSV/JSON files, so on a
# cluster they run where snakemake runs instead of waiting in the queue for a node each.
localrules:
    all,
    split_manifest,
    byte_unigram,
    seq2seq_manifests,
    collect_summaries,
    analysis_tables,
    analysis_figures,
    analysis_audit,
