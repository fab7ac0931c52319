import pytest

from nc.analysis.paper import paper_table
from nc.methods import parse_method
from nc.models.sizes import PAPER_M2_SIZES
from nc.pipeline.config import (
    SEQ2SEQ_VARIANTS,
    Run,
    compressed_slugs,
    deep_merge,
    prepare_config,
    rule_resources,
    run_bundles,
    run_flops_per_token,
    seq2seq_chunks,
    seq2seq_slugs,
    study_runs,
)
from nc.pipeline.launch import decode_arguments, encode_arguments
from nc.sections import M2Config, Seq2SeqConfig

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
# Every method of the paper's Table 12, from the copy of the paper's values shipped with nc.
TABLE12_METHODS = paper_table("table12_dataset_sizes").iloc[:, 0].tolist()


def test_paper_scale_is_the_papers_setup():
    cfg = prepare_config({"scale": "paper"}, ROOT)
    assert cfg["data"]["example_bytes"] == 10240 and cfg["data"]["docs_per_sequence"] == 128
    assert (cfg["m1"]["size"], cfg["m1"]["seq_len"], cfg["m1"]["batch_size"], cfg["m1"]["steps"]) == (
        "3m",
        1024,
        128,
        2_500_000,
    )
    m2 = cfg["m2"]
    assert (m2["seq_len"], m2["batch_size"], m2["steps"], m2["eval_batches"]) == (512, 256, 200_000, 20)
    assert tuple(m2["sizes"]) == PAPER_M2_SIZES and cfg["coding"]["precision"] == 14
    runs = study_runs(cfg)
    labels = {parse_method(r.slug).label for r in runs}
    table12 = TABLE12_METHODS
    assert len(table12) == 16 and set(table12) <= labels
    for label in table12:  # every Table 12 method at every paper size
        slug = parse_method(label).slug
        assert {r.size for r in runs if r.slug == slug and r.variant == "default"} == set(PAPER_M2_SIZES)
    variance = {r.seed for r in runs if r.size == "25m" and r.slug == "bytes"}
    assert variance == {0, 1, 2, 3, 4}  # Table 11
    assert {r.variant for r in runs} == {"default", "bytematched", *SEQ2SEQ_VARIANTS}
    assert seq2seq_slugs(cfg) == ["ac-v256", "eqinfo-b16-v256"]
    assert "gzip-v256-noheader" in compressed_slugs(cfg)


def test_runs_are_union_of_studies():
    cfg = prepare_config({"scale": "smoke"}, ROOT)
    runs = study_runs(cfg)
    assert len(runs) == len(set(runs))
    assert Run("bytes", "s1", "default", 1) in runs and Run("bytes", "s2", "default", 1) not in runs
    assert Run("eqinfo-b16-v65k", "s1", "bytematched", 1) in runs
    assert Run("ac-v256", "s2", "seq2seq-bytelm", 0) in runs


@pytest.mark.parametrize(
    "override, key",
    [
        ({"m2": {"batchsize": 8}}, "batchsize"),
        ({"data": {"example_bytes": "10k"}}, "example_bytes"),
        ({"resources": {"train_m2": {"default": {"mem_mb": 1, "runtime": 1, "cpus_per_task": 1, "gpu": 1}}}}, "gpu"),
        (
            {"m2": {"studies": {"scaling": {"methods": ["Bytes"], "sizes": "all", "seeds": [0], "variant": "x"}}}},
            "variant",
        ),
        ({"cluster": {"groups": {"train_m3": "m2"}}}, "train_m3"),
        ({"coding": {"m1_max_rows": 0}}, "m1_max_rows"),
        ({"data": {"parts": {"test": 2}}}, "test"),
        ({"data": {"splits": {"valid": {"examples": 8, "seed": 0, "shard": 1}}}}, "shard"),
    ],
)
def test_schema_rejects_wrong_keys_and_types_naming_them(override, key):
    with pytest.raises(Exception, match=key):
        prepare_config({"scale": "tiny", **override}, ROOT)


def test_semantic_checks_name_the_key():
    with pytest.raises(ValueError, match=r"m2\.studies\.scaling\.methods\[0\].*EqualInfo"):
        prepare_config({"scale": "tiny", "m2": {"studies": {"scaling": {"methods": ["EqualInfo[b=16]"]}}}}, ROOT)
    with pytest.raises(ValueError, match=r"m1\.size.*unknown model size 'huge'"):
        prepare_config({"scale": "tiny", "m1": {"size": "huge"}}, ROOT)
    with pytest.raises(ValueError, match="unknown scale 'big'"):
        prepare_config({"scale": "big"}, ROOT)
    with pytest.raises(ValueError, match=r"spelling\.size: 't2' needs a seed-0 EqualInfoAC\[b=16;v=256\] run"):
        prepare_config(
            {"scale": "tiny", "spelling": {"size": "t2"}, "m2": {"studies": {"scaling": {"sizes": ["t3"]}}}}, ROOT
        )


def test_overrides_merge_deeply_and_resources_fall_back():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    cfg = prepare_config({"scale": "paper", "m2": {"steps": 10}}, ROOT)
    assert cfg["m2"]["steps"] == 10 and cfg["m2"]["seq_len"] == 512
    assert rule_resources(cfg, "train_m2", "2b")["gpus"] > rule_resources(cfg, "train_m2", "25m")["gpus"]
    assert rule_resources(cfg, "collect_summaries") == {"nodes": 1, "tasks": 1, **cfg["resources"]["default"]}


def test_training_processes_must_split_nodes_gpus_and_the_batch_evenly():
    two_nodes = {"mem_mb": 1000, "runtime": 10, "cpus_per_task": 8, "gpus": 16, "nodes": 2, "tasks": 2}
    cfg = prepare_config({"scale": "paper", "resources": {"train_m2": {"by_size": {"2b": two_nodes}}}}, ROOT)
    assert rule_resources(cfg, "train_m2", "2b") == two_nodes
    bad = [
        ({"tasks": 3}, r"tasks=3 must be a multiple of nodes=2"),
        ({"gpus": 15, "tasks": 2}, r"gpus=15 must be a multiple of tasks=2"),
        ({"gpus": 24, "nodes": 3, "tasks": 3}, r"the batch of 256 rows does not split over 24 devices"),
    ]
    for change, message in bad:
        spec = {**two_nodes, **change}
        with pytest.raises(ValueError, match=r"resources\.train_m2 \(2b\): " + message):
            prepare_config({"scale": "paper", "resources": {"train_m2": {"by_size": {"2b": spec}}}}, ROOT)


def test_layout_per_size_comes_from_m2_parallelism():
    cfg = prepare_config({"scale": "paper"}, ROOT)
    m2 = M2Config.from_config(cfg["m2"])
    assert m2.training_layout("2b") == {"layout": "replicated", "remat": True}
    assert m2.training_layout("25m") == {"layout": "replicated", "remat": False}
    with pytest.raises(Exception, match="zero3"):  # the schema names the bad value
        prepare_config(
            {"scale": "paper", "m2": {"parallelism": {"default": {"layout": "zero3", "remat": False}}}}, ROOT
        )


def test_jobs_without_m1_ask_for_no_gpu():
    cfg = prepare_config({"scale": "paper"}, ROOT)
    assert rule_resources(cfg, "compress_shard", slug="ac-v256")["gpus"] == 1
    assert rule_resources(cfg, "seq2seq_shard", slug="eqinfo-b16-v256")["gpus"] == 1
    for slug in ("bytes", "sentencepiece", "gzip-v65k", "staticac-v256"):
        assert rule_resources(cfg, "compress_shard", slug=slug)["gpus"] == 0, slug
    for rule in ("corpus_part", "split_shard", "method_manifests", "train_sentencepiece"):
        assert rule_resources(cfg, rule)["gpus"] == 0, rule


def test_seq2seq_data_is_sized_to_what_training_reads():
    cfg = prepare_config({"scale": "paper"}, ROOT)
    seq2seq, m2 = Seq2SeqConfig.from_config(cfg["seq2seq"]), M2Config.from_config(cfg["m2"])
    assert seq2seq_chunks(seq2seq, m2, "m2_train") == 200_000 * 256
    assert seq2seq_chunks(seq2seq, m2, "valid") == 20_480
    smoke = prepare_config({"scale": "smoke"}, ROOT)
    smoke_sections = Seq2SeqConfig.from_config(smoke["seq2seq"]), M2Config.from_config(smoke["m2"])
    assert seq2seq_chunks(*smoke_sections, "m2_train") == 64


@pytest.mark.parametrize("scale, per_job", [("tiny", 12), ("smoke", 8), ("tiny", 3)])
def test_run_bundles_cover_every_run_once_in_jobs_of_one_shape(scale, per_job):
    cfg = prepare_config({"scale": scale, "m2": {"runs_per_job": per_job}}, ROOT)
    bundles = run_bundles(cfg)
    bundled = [run for bundle in bundles for run in bundle.runs]
    assert sorted(bundled) == study_runs(cfg) and len(set(bundled)) == len(bundled)
    assert len({b.name for b in bundles}) == len(bundles)
    for bundle in bundles:
        assert 1 <= len(bundle.runs) <= per_job
        assert {(r.size, r.variant) for r in bundle.runs} == {(bundle.size, bundle.runs[0].variant)}
        vocab = {
            parse_method(r.slug).kind == "SentencePiece" or parse_method(r.slug).fixed_vocab_size for r in bundle.runs
        }
        assert len(vocab) == 1, bundle
    # runs of one shape are spread evenly over their jobs
    shapes = {}
    for bundle in bundles:
        shapes.setdefault(bundle.name.rsplit("_", 1)[0], []).append(len(bundle.runs))
    assert all(max(n) - min(n) <= 1 for n in shapes.values())


def test_costlier_shapes_get_fewer_runs_per_job():
    cfg = prepare_config({"scale": "tiny"}, ROOT)
    bundles = {b.name: b for b in run_bundles(cfg)}
    cost = {
        n: run_flops_per_token(b.size, b.runs[0].variant, int(n.split("_v")[1].split("_")[0]))
        for n, b in bundles.items()
    }
    cheapest = min(cost.values())
    budget = cfg["m2"]["runs_per_job"] * cheapest
    for name, bundle in bundles.items():
        # within one run of the budget; a single run may exceed it
        assert len(bundle.runs) == 1 or (len(bundle.runs) - 1) * cost[name] <= budget, name
    assert len(bundles["t1_default_v65536_0"].runs) < len(bundles["t1_default_v256_0"].runs)
    assert run_flops_per_token("t1", "default", 65536) > 5 * run_flops_per_token("t1", "default", 256)
    assert run_flops_per_token("t1", "bytematched", 256) == run_flops_per_token("t1", "default", 256) / 2
    # a job's cost in cheapest runs, and costlier jobs start first
    for name, bundle in bundles.items():
        assert bundle.relative_cost == pytest.approx(len(bundle.runs) * cost[name] / cheapest)
    # priorities never decrease with cost (jobs of nearly equal cost may share one)
    priorities_by_cost = [b.priority for b in sorted(bundles.values(), key=lambda b: b.relative_cost)]
    assert priorities_by_cost == sorted(priorities_by_cost)
    assert len(set(priorities_by_cost)) > 1
    assert bundles["t1_default_v65536_0"].priority > bundles["t1_default_v256_0"].priority


def test_one_run_per_job_makes_no_bundles_and_bundles_need_one_process():
    assert run_bundles(prepare_config({"scale": "paper"}, ROOT)) == []
    two = {"default": {"mem_mb": 1000, "runtime": 10, "cpus_per_task": 1, "gpus": 0, "tasks": 2}}
    with pytest.raises(ValueError, match="m2.runs_per_job: a job of several runs trains them in one process"):
        prepare_config({"scale": "tiny", "resources": {"train_m2": {"default": two["default"], "by_size": {}}}}, ROOT)


def test_training_arguments_keep_their_sections_across_processes():
    cfg = prepare_config({"scale": "tiny"}, ROOT)
    kwargs = {"m2": M2Config.from_config(cfg["m2"]), "seed": 3, "size": "t1"}
    decoded = decode_arguments(encode_arguments(kwargs))
    assert decoded == kwargs and isinstance(decoded["m2"], M2Config)
    assert decoded["m2"].sizes == tuple(cfg["m2"]["sizes"])
