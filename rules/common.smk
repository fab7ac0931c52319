# Configuration loading and validation, wildcard constraints, and the study matrix.
from nc.data.spelling import SCHEMES
from nc.sections import CodingConfig, DataConfig, M1Config, M2Config, Seq2SeqConfig, SentencePieceConfig, SpellingConfig
from nc.pipeline.config import (
    CORPUS_SPLIT_OF,
    SPLITS,
    WILDCARD_PATTERNS,
    compressed_slugs,
    prepare_config,
    rule_resources,
    run_bundles,
    seq2seq_chunks,
    seq2seq_slugs,
    study_runs,
)

# The scale file plus any --config overrides, validated (schema + semantics) before any job is planned.
_merged = prepare_config(config, root=workflow.basedir)
config.clear()
config.update(_merged)

# Typed sections, built once from the validated config; rules pass them to their steps.
CODING = CodingConfig.from_config(config["coding"])
SENTENCEPIECE = SentencePieceConfig.from_config(config["sentencepiece"])
DATA = DataConfig.from_config(config["data"])
M1 = M1Config.from_config(config["m1"])
M2 = M2Config.from_config(config["m2"])
SEQ2SEQ = Seq2SeqConfig.from_config(config["seq2seq"])
SPELLING = SpellingConfig.from_config(config["spelling"])

RESULTS = config.get("results", f"results/{config['scale']}")
R = RESULTS
RUNS = study_runs(config)
RUN_BUNDLES = run_bundles(config)  # empty: a job per run
LM_SLUGS = compressed_slugs(config)
SEQ2SEQ_SLUGS = seq2seq_slugs(config)
SEQ2SEQ_TASKS = ["compress", "decompress", "bytelm"]
SUMMARY_FILES = [f"{R}/summary/runs.csv", f"{R}/summary/evals.csv", f"{R}/summary/compression.csv",
                 f"{R}/summary/spelling.csv"]
SPELLING_SCHEMES = SCHEMES


wildcard_constraints:
    **WILDCARD_PATTERNS,


# Snakemake resource -> key of config.resources. `nodes` pins a job to one node unless it asks for more;
# a job's processes (`tasks`) reach its script as a parameter (nc.pipeline.launch starts them).
RESOURCE_KEYWORDS = {"mem_mb": "mem_mb", "runtime": "runtime", "cpus_per_task": "cpus_per_task", "gpu": "gpus",
                     "nodes": "nodes"}


def resources_of(rule_name, size=None):
    """Resources of a rule from config.resources, as Snakemake resource keywords."""
    spec = rule_resources(config, rule_name, size)
    return {keyword: spec[key] for keyword, key in RESOURCE_KEYWORDS.items()}


def method_resources(rule_name):
    """Resources of a per-method rule: a job of a method that never runs M1 asks for no GPU."""
    return {keyword: (lambda wildcards, key=key: rule_resources(config, rule_name, slug=wildcards.slug)[key])
            for keyword, key in RESOURCE_KEYWORDS.items()}


def size_resources(rule_name):
    """Resources of a per-model-size rule (train_m2)."""
    return {keyword: (lambda wildcards, key=key: rule_resources(config, rule_name, wildcards.size)[key])
            for keyword, key in RESOURCE_KEYWORDS.items()}


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
        return {"unigram": f"{R}/data/byte_unigram.json"}
    return {}


def corpus_part_markers(wildcards):
    """Every corpus part of the corpus split that data split ``wildcards.data_split`` is drawn from."""
    corpus_split = CORPUS_SPLIT_OF[wildcards.data_split]
    n = DATA.parts[corpus_split]
    return [f"{R}/data/parts/{corpus_split}/{i}-of-{n}/meta.json" for i in range(n)]


def split_shard_markers(wildcards):
    """The shards of data split ``wildcards.data_split``."""
    n = DATA.splits[wildcards.data_split].shards
    return [f"{R}/data/{wildcards.data_split}/shards/{i}-of-{n}/meta.json" for i in range(n)]


def shard_markers(wildcards, split):
    """The shard datasets of method ``wildcards.slug`` and ``split``."""
    n = config["compress"]["shards"][split]
    return [f"{R}/compression/{wildcards.slug}/shards/{split}/{i}-of-{n}/meta.json" for i in range(n)]


def seq2seq_shard_markers(wildcards):
    """Per Table 5 task, the shard datasets of method ``wildcards.slug`` and ``wildcards.split``."""
    n = SEQ2SEQ.shards[wildcards.split]
    return {task: [f"{R}/compression/{wildcards.slug}/seq2seq-{task}/shards/{wildcards.split}/{i}-of-{n}/meta.json"
                   for i in range(n)] for task in SEQ2SEQ_TASKS}


def m2_datasets(wildcards):
    """Train and validation manifests of a run: seq2seq variants have their own datasets."""
    return run_datasets(wildcards.slug, wildcards.variant)


def run_datasets(slug, variant):
    base = f"{R}/compression/{slug}"
    if variant.startswith("seq2seq-"):
        base = f"{base}/{variant}"
    return {"train": f"{base}/m2_train/manifest.json", "valid": f"{base}/valid/manifest.json"}


def sentencepiece_inputs(wildcards):
    # A pre-trained model is a parameter, not an input: the DAG builds (and dry-runs) on machines without
    # the file; the job checks it and names it if it is missing.
    return {} if SENTENCEPIECE.model_file else {"train": f"{R}/data/m2_train/manifest.json"}


def spelling_inputs(wildcards):
    """The pre-trained run (its eval.json) and what tokenises the words: M1 or the SentencePiece model."""
    method = SPELLING_SCHEMES[wildcards.scheme].spec
    inputs = {"pretrained": f"{R}/m2/{method.slug}/{config['spelling']['size']}/default/seed0/eval.json"}
    if method.kind == "SentencePiece":
        inputs["sentencepiece"] = f"{R}/sentencepiece/spm.model"
    else:
        inputs["m1"] = f"{R}/m1/eval.json"
    return inputs
