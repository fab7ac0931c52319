"""Workflow configuration: loading a scale, validating it, and expanding the study matrix.

``config/config.yaml`` selects a scale; ``config/scales/<scale>.yaml`` holds every knob. Keys given to
Snakemake besides ``scale`` (``--config``, ``--configfile``) are deep-merged over the scale file, so a test
can shrink one value. The merged mapping is checked against ``config/schema/config.schema.json``
(unknown keys and wrong types fail naming the key) and then semantically (method names parse, model sizes
exist) by ``check_config``.

The M2 runs are the union over ``m2.studies`` of methods x sizes x seeds, each with a *variant*:
``default``, ``bytematched`` (Table 6, half sequence length) or, for a study with ``variant: seq2seq``,
the three Table 5 tasks ``seq2seq-compress``, ``seq2seq-decompress``, ``seq2seq-bytelm``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nc.data.spelling import SCHEMES
from nc.methods import DEFAULT_VARIANT, parse_method
from nc.models.sizes import model_size
from nc.sections import M2Config, Seq2SeqConfig

SCALES_DIR = Path("config") / "scales"
SCHEMA_PATH = Path("config") / "schema" / "config.schema.json"
SEQ2SEQ_VARIANTS = ("seq2seq-compress", "seq2seq-decompress", "seq2seq-bytelm")
VARIANTS = (DEFAULT_VARIANT, "bytematched", *SEQ2SEQ_VARIANTS)
SPLITS = ("m1_train", "m2_train", "valid")
COMPRESSED_SPLITS = ("m2_train", "valid")
# The corpus split each data split is drawn from (M1 and M2 both train on C4 train; Section 3.2).
CORPUS_SPLIT_OF = {"m1_train": "train", "m2_train": "train", "valid": "validation"}
CORPUS_SPLITS = ("train", "validation")
# Rules that run M1 for some methods only: their jobs ask for GPUs only when the method uses M1.
M1_METHOD_RULES = ("compress_shard", "seq2seq_shard")
WILDCARD_PATTERNS = {
    "slug": r"[a-z][a-z0-9-]*",
    "size": r"[a-z0-9]+",
    "variant": "|".join(VARIANTS),
    "seed": r"\d+",
    "split": "|".join(COMPRESSED_SPLITS),
    "data_split": "|".join(SPLITS),
    "corpus_split": "|".join(CORPUS_SPLITS),
    "part": r"\d+",
    "num_parts": r"\d+",
    "shard": r"\d+",
    "num_shards": r"\d+",
}


@dataclass(frozen=True, order=True)
class Run:
    """One M2 training run."""

    slug: str
    size: str
    variant: str
    seed: int

    @property
    def path(self) -> str:
        """Run directory relative to the results root."""
        return f"m2/{self.slug}/{self.size}/{self.variant}/seed{self.seed}"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in recursively (mappings merge, everything else replaces)."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scale(given: Mapping[str, Any], root: str | Path = ".") -> dict[str, Any]:
    """The scale file selected by ``given['scale']`` with the other keys of ``given`` merged over it."""
    scale = given.get("scale")
    if not isinstance(scale, str) or not scale:
        raise ValueError("config key 'scale' must name a scale (smoke, tiny or paper)")
    path = Path(root) / SCALES_DIR / f"{scale}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (Path(root) / SCALES_DIR).glob("*.yaml"))
        raise ValueError(f"config key 'scale': unknown scale {scale!r}; known scales: {known}")
    with open(path, encoding="utf-8") as f:
        scale_config = yaml.safe_load(f) or {}
    return deep_merge(scale_config, given)


def validate_schema(config: Mapping[str, Any], schema_path: str | Path = SCHEMA_PATH) -> None:
    """``snakemake.utils.validate`` against the JSON schema; its error names the offending key."""
    from snakemake.utils import validate

    validate(dict(config), str(Path(schema_path).resolve()), set_default=False)


def check_config(config: Mapping[str, Any]) -> None:
    """Checks the schema cannot express: methods parse, model sizes exist. Raises ValueError naming the key."""
    for key in ("m1.size", *(f"m2.sizes[{i}]" for i in range(len(config["m2"]["sizes"])))):
        name = config["m1"]["size"] if key == "m1.size" else config["m2"]["sizes"][int(key[9:-1])]
        _check_size(key, name)
    for study_name, study in config["m2"]["studies"].items():
        for i, label in enumerate(study["methods"]):
            try:
                method = parse_method(label)
            except ValueError as error:
                raise ValueError(f"m2.studies.{study_name}.methods[{i}]: {error}") from None
            if study.get("variant") == "seq2seq" and not method.is_bitstream:
                raise ValueError(
                    f"m2.studies.{study_name}.methods[{i}]: seq2seq needs a compressed method, got {label!r}"
                )
        if study["sizes"] != "all":
            for i, size in enumerate(study["sizes"]):
                _check_size(f"m2.studies.{study_name}.sizes[{i}]", size)
    for size in config["m2"]["sizes"]:
        _check_processes(
            f"resources.train_m2 ({size})", rule_resources(config, "train_m2", size), config["m2"]["batch_size"]
        )
    _check_processes("resources.train_m1", rule_resources(config, "train_m1"), config["m1"]["batch_size"])
    if config["m2"]["runs_per_job"] > 1:
        for size in config["m2"]["sizes"]:
            if rule_resources(config, "train_m2", size)["tasks"] > 1:
                raise ValueError(
                    f"m2.runs_per_job: a job of several runs trains them in one process, but "
                    f"resources.train_m2 ({size}) asks for {rule_resources(config, 'train_m2', size)['tasks']} tasks"
                )
    _check_spelling(config)


def _check_spelling(config: Mapping[str, Any]) -> None:
    """The spelling fine-tunes start from the scaling study's seed-0 runs at ``spelling.size``."""
    size = config["spelling"]["size"]
    runs = set(study_runs(config))
    for method in dict.fromkeys(scheme.spec for scheme in SCHEMES.values()):
        if Run(method.slug, size, DEFAULT_VARIANT, 0) not in runs:
            raise ValueError(
                f"spelling.size: {size!r} needs a seed-0 {method} run of that size in m2.studies "
                f"(sizes: {config['m2']['sizes']})"
            )


def _check_processes(key: str, spec: Mapping[str, int], batch_size: int) -> None:
    """A multi-process training job: one process per node, the GPUs and the batch split evenly."""
    tasks, nodes, gpus = spec["tasks"], spec["nodes"], spec["gpus"]
    if tasks % nodes:
        raise ValueError(f"{key}: tasks={tasks} must be a multiple of nodes={nodes} (processes per node)")
    if gpus and gpus % tasks:
        raise ValueError(f"{key}: gpus={gpus} must be a multiple of tasks={tasks} (GPUs per process)")
    devices = gpus or tasks
    if batch_size % devices:
        raise ValueError(f"{key}: the batch of {batch_size} rows does not split over {devices} devices")


def _check_size(key: str, name: str) -> None:
    try:
        model_size(name)
    except KeyError as error:
        raise ValueError(f"{key}: {error.args[0]}") from None


def prepare_config(given: Mapping[str, Any], root: str | Path = ".") -> dict[str, Any]:
    """Load the selected scale, validate it (schema + semantics) and return the merged configuration."""
    config = load_scale(given, root)
    validate_schema(config, Path(root) / SCHEMA_PATH)
    check_config(config)
    return config


def study_runs(config: Mapping[str, Any]) -> list[Run]:
    """Every M2 run of every study, deduplicated and sorted."""
    runs: set[Run] = set()
    for study in config["m2"]["studies"].values():
        sizes = config["m2"]["sizes"] if study["sizes"] == "all" else study["sizes"]
        variant = study.get("variant", DEFAULT_VARIANT)
        variants = SEQ2SEQ_VARIANTS if variant == "seq2seq" else (variant,)
        for label in study["methods"]:
            slug = parse_method(label).slug
            runs.update(Run(slug, size, v, seed) for size in sizes for v in variants for seed in study["seeds"])
    return sorted(runs)


@dataclass(frozen=True)
class RunBundle:
    """M2 runs one job trains one after another, in one process (``m2.runs_per_job``); ``relative_cost``
    is the job's FLOPs in units of the cheapest run (``run_flops_per_token``)."""

    name: str
    size: str
    runs: tuple[Run, ...]
    relative_cost: float = 1.0

    @property
    def priority(self) -> int:
        """Snakemake priority: costlier jobs start first, so that no long job is left alone at the end."""
        return round(10 * self.relative_cost)


def run_bundles(config: Mapping[str, Any]) -> list[RunBundle]:
    """The M2 runs in jobs of about equal cost (none when ``m2.runs_per_job`` is 1: a job per run).

    A job's runs share a model size, variant and vocabulary, so the process traces and compiles its
    training and evaluation programs once. ``m2.runs_per_job`` runs of the cheapest shape make one job;
    a costlier shape (a larger model, or the 65,536-entry output layer) gets fewer runs per job, in
    proportion to its FLOPs per token (``run_flops_per_token``), so that no job of expensive runs is left
    alone at the end of the workflow. Runs of one key are spread evenly over its jobs.
    """
    per_job = config["m2"]["runs_per_job"]
    if per_job <= 1:
        return []
    keys: dict[tuple[str, str, int], list[Run]] = {}
    for run in study_runs(config):
        keys.setdefault((run.size, run.variant, _vocab_size(config, run.slug)), []).append(run)
    cost = {key: run_flops_per_token(*key) for key in keys}
    cheapest = min(cost.values())
    budget = per_job * cheapest
    bundles = []
    for key, runs in sorted(keys.items()):
        size, variant, vocab_size = key
        jobs = min(len(runs), max(1, math.ceil(len(runs) * cost[key] / budget - 1e-9)))
        for k in range(jobs):
            name = f"{size}_{variant}_v{vocab_size}_{k}".replace("-", "_")
            members = tuple(runs[k::jobs])
            bundles.append(RunBundle(name, size, members, len(members) * cost[key] / cheapest))
    return bundles


# What a training position costs besides its FLOPs (data, optimizer, evaluation, dispatch), in FLOPs: measured
# on the tiny scale's CPU runs (a t1 run over 256 tokens takes ~25 CPU-s, one over 65,536 ~200 CPU-s).
RUN_OVERHEAD_FLOPS_PER_TOKEN = 6 * 240_000


def run_flops_per_token(size: str, variant: str, vocab_size: int) -> float:
    """The relative cost of a run's shape per training position: 6 x (non-embedding parameters + output
    layer) plus ``RUN_OVERHEAD_FLOPS_PER_TOKEN``, halved for ``bytematched`` runs (half the sequence)."""
    model = model_size(size)
    flops = 6.0 * (model.non_embedding_params + vocab_size * model.embed_dim) + RUN_OVERHEAD_FLOPS_PER_TOKEN
    return flops / 2 if variant == "bytematched" else flops


def _vocab_size(config: Mapping[str, Any], slug: str) -> int:
    method = parse_method(slug)
    return config["sentencepiece"]["vocab_size"] if method.kind == "SentencePiece" else method.fixed_vocab_size


def compressed_slugs(config: Mapping[str, Any]) -> list[str]:
    """Methods whose language-modelling datasets are built (every method of a non-seq2seq run)."""
    return sorted({run.slug for run in study_runs(config) if run.variant not in SEQ2SEQ_VARIANTS})


def seq2seq_slugs(config: Mapping[str, Any]) -> list[str]:
    return sorted({run.slug for run in study_runs(config) if run.variant in SEQ2SEQ_VARIANTS})


def rule_resources(
    config: Mapping[str, Any], rule: str, size: str | None = None, slug: str | None = None
) -> dict[str, int]:
    """Resources of ``rule`` (for train_m2: of model ``size``), falling back to ``resources.default``;
    ``nodes`` and ``tasks`` default to 1 (a job pinned to one node, one process).

    Jobs of ``M1_METHOD_RULES`` for a method without M1 (``slug``) ask for no GPU: they never use one.
    """
    resources = config["resources"]
    spec = dict(resources.get(rule, resources["default"]))
    if rule == "train_m2":
        spec = dict(spec.get("by_size", {}).get(size, spec["default"]))
    spec = {"nodes": 1, "tasks": 1, **spec}
    if rule in M1_METHOD_RULES and slug is not None and not parse_method(slug).uses_m1:
        spec["gpus"] = 0
    return spec


def seq2seq_chunks(seq2seq: Seq2SeqConfig, m2: M2Config, split: str) -> int:
    """Sequence-to-sequence examples built for ``split``: ``seq2seq.train_examples`` / ``valid_examples``,
    by default exactly what M2 reads (steps x batch_size to train, eval_batches x batch_size to evaluate)."""
    if split == "m2_train":
        return int(seq2seq.train_examples or m2.steps * m2.batch_size)
    return int(seq2seq.valid_examples or m2.eval_batches * m2.batch_size)
