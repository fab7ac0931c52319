# Configuration loading and validation, wildcard constraints, and the study matrix.
from nc.pipeline.config import (
    WILDCARD_PATTERNS,
    compressed_slugs,
    prepare_config,
    rule_resources,
    seq2seq_slugs,
    study_runs,
)

# The scale file plus any --config overrides, validated (schema + semantics) before any job is planned.
_merged = prepare_config(config, root=workflow.basedir)
config.clear()
config.update(_merged)

RESULTS = config.get("results", f"results/{config['scale']}")
R = RESULTS
RUNS = study_runs(config)
LM_SLUGS = compressed_slugs(config)
SEQ2SEQ_SLUGS = seq2seq_slugs(config)
SEQ2SEQ_TASKS = ["compress", "decompress", "bytelm"]
SUMMARY_FILES = [f"{R}/summary/runs.csv", f"{R}/summary/evals.csv", f"{R}/summary/compression.csv"]


wildcard_constraints:
    **WILDCARD_PATTERNS,


def resources_of(rule_name, size=None):
    """Resources of a rule from config.resources, as Snakemake resource keywords."""
    spec = rule_resources(config, rule_name, size)
    return {"mem_mb": spec["mem_mb"], "runtime": spec["runtime"], "cpus_per_task": spec["cpus_per_task"],
            "gpu": spec["gpus"]}


def cluster_group(rule_name):
    """The Snakemake group of a rule's jobs on a cluster (config.cluster.groups), or None: own job each."""
    return config["cluster"]["groups"].get(rule_name)


def threads_of(rule_name):
    return rule_resources(config, rule_name)["cpus_per_task"]


def tokenizer_inputs(wildcards):
    """What a method's tokenisation needs besides the raw split: M1, the SentencePiece model or nothing."""
    from nc.methods import parse_method

    method = parse_method(wildcards.slug)
    if method.uses_m1:
        return {"m1": f"{R}/m1/eval.json"}
    if method.kind == "SentencePiece":
        return {"sentencepiece": f"{R}/sentencepiece/spm.model"}
    if method.kind == "StaticAC":
        return {"unigram_text": f"{R}/data/m1_train.npz"}
    return {}


def shard_markers(wildcards, split):
    """The shard datasets of method ``wildcards.slug`` and ``split``."""
    n = config["compress"]["shards"][split]
    return [f"{R}/compression/{wildcards.slug}/shards/{split}/{i}-of-{n}/meta.json" for i in range(n)]


def m2_datasets(wildcards):
    """Train and validation dataset markers of a run: seq2seq variants have their own datasets."""
    base = f"{R}/compression/{wildcards.slug}"
    if wildcards.variant.startswith("seq2seq-"):
        base = f"{base}/{wildcards.variant}"
    return {"train": f"{base}/m2_train/meta.json", "valid": f"{base}/valid/meta.json"}
