"""The summary CSVs' records: what the writer writes is what the reader reads."""

import dataclasses

import pandas as pd
import pytest

from nc.analysis.options import AnalysisOptions
from nc.analysis.summary import load_summary, make_summary
from nc.analysis.tables import m1_parameter_count
from nc.records import (
    DEVICE_COLUMNS,
    CompressionRecord,
    EvalRecord,
    MethodIdentity,
    RunRecord,
    SpellingRecord,
    columns,
    record_from_row,
    required_columns,
    write_records,
)


def _run(slug="eqinfo-b16-v256", seed=0, **over):
    fields = dict(
        size="t1",
        variant="default",
        seed=seed,
        nominal_params=1e5,
        m1_params=5e4,
        steps=10,
        loss_nats_per_token=3.0,
        accuracy=0.2,
        bits_per_byte=2.5,
        bits_per_byte_se=0.01,
        compression_ratio=2.0,
        mflops_per_byte=0.3,
        eval_tokens=100,
        eval_bytes=200,
        backend="cpu",
    )
    return RunRecord(**MethodIdentity.from_slug(slug), **{**fields, **over})


def test_columns_are_the_fields_in_order_and_required_are_those_without_default():
    assert columns(RunRecord)[:3] == ("method", "paper_label", "slug")
    assert set(DEVICE_COLUMNS) <= set(columns(RunRecord))
    assert "m1_params" in columns(RunRecord) and "m1_params" not in required_columns(RunRecord)
    assert required_columns(SpellingRecord) == tuple(c for c in columns(SpellingRecord) if c != "method")
    for record in (RunRecord, EvalRecord, CompressionRecord, SpellingRecord):
        assert set(required_columns(record)) < set(columns(record))


def test_written_summaries_read_back(tmp_path):
    runs = [_run(seed=0), _run(seed=1, bits_per_byte=2.6)]
    evals = [
        record_from_row(
            EvalRecord,
            {
                **MethodIdentity.from_slug("eqinfo-b16-v256"),
                "size": "t1",
                "variant": "default",
                "seed": 0,
                "step": s,
                "loss": 3.0,
                "accuracy": 0.2,
                "bits_per_byte": 2.5,
                "tokens": 100,
            },
        )
        for s in (5, 10)
    ]
    comp = [
        record_from_row(
            CompressionRecord,
            {
                **MethodIdentity.from_slug("eqinfo-b16-v256"),
                "compression_ratio": 2.0,
                "bit_compression_ratio": 2.0,
                "tokens": 10,
                "bytes": 20,
                "vocab_size": 256,
                "unigram_bits_per_byte": 4.0,
                "examples": 3,
            },
        )
    ]
    spelling = [
        SpellingRecord(
            scheme="byt5",
            label="ByT5",
            size="t1",
            step=0,
            held_out_accuracy=0.0,
            train_accuracy=0.1,
            held_out_words=6,
            train_words=24,
        )
    ]
    paths = [tmp_path / f"{n}.csv" for n in ("runs", "evals", "compression", "spelling")]
    write_records(paths[0], runs, RunRecord)
    write_records(paths[1], evals, EvalRecord, ["acc_pos_1"], [{"acc_pos_1": 0.5}, {}])
    write_records(paths[2], comp, CompressionRecord)
    write_records(paths[3], spelling, SpellingRecord)
    assert pd.read_csv(paths[0]).columns.tolist() == list(columns(RunRecord))
    summary = load_summary(*paths)
    assert summary.runs["bits_per_byte"].tolist() == [2.5, 2.6]
    assert summary.runs["m1_params"].tolist() == [5e4, 5e4]
    assert summary.runs["label"].tolist() == ["EqualInfoAC[b=16;v=256]"] * 2
    assert summary.evals["acc_pos_1"].tolist()[0] == 0.5 and pd.isna(summary.evals["acc_pos_1"].tolist()[1])
    assert summary.compression["uniform_bits_per_byte"].tolist() == [4.0]  # 8 bits / ratio 2
    assert summary.spelling["train_accuracy"].tolist() == [0.1]


def test_reader_names_a_missing_required_column_and_fills_optional_ones():
    frame = pd.DataFrame([dataclasses.asdict(_run())])
    with pytest.raises(ValueError, match=r"runs.csv: missing column\(s\) \['bits_per_byte'\]"):
        make_summary(
            frame.drop(columns=["bits_per_byte"]),
            pd.DataFrame(columns=list(columns(EvalRecord))),
            pd.DataFrame(columns=list(columns(CompressionRecord))),
        )
    lean = frame[list(required_columns(RunRecord))]
    summary = make_summary(
        lean, pd.DataFrame(columns=list(columns(EvalRecord))), pd.DataFrame(columns=list(columns(CompressionRecord)))
    )
    assert pd.isna(summary.runs["m1_params"]).all() and pd.isna(summary.runs["bits_per_byte_se"]).all()
    assert summary.runs["nominal_params"].notna().all()  # from the size's table entry


def test_a_row_without_a_required_key_is_named():
    with pytest.raises(ValueError, match=r"stats.json: missing \['vocab_size'\] for a CompressionRecord"):
        record_from_row(
            CompressionRecord,
            {
                "slug": "bytes",
                "compression_ratio": 1.0,
                "bit_compression_ratio": 1.0,
                "tokens": 1,
                "bytes": 1,
                "unigram_bits_per_byte": 4.0,
            },
            "stats.json",
        )


def test_writer_takes_only_its_record_type(tmp_path):
    with pytest.raises(TypeError, match="not a RunRecord"):
        write_records(tmp_path / "runs.csv", [{"slug": "bytes"}], RunRecord)
    assert not (tmp_path / "runs.csv").exists()


def test_tables_take_m1_size_from_the_runs_record():
    empty_evals = pd.DataFrame(columns=list(columns(EvalRecord)))
    empty_comp = pd.DataFrame(columns=list(columns(CompressionRecord)))
    frame = pd.DataFrame(
        [dataclasses.asdict(_run(m1_params=12345.0)), dataclasses.asdict(_run("bytes", m1_params=0.0))]
    )
    summary = make_summary(frame, empty_evals, empty_comp)
    assert m1_parameter_count(summary, AnalysisOptions()) == 12345.0
    assert m1_parameter_count(summary, AnalysisOptions(m1_size="t0")) != 12345.0  # the option wins
    unrecorded = make_summary(frame.assign(m1_params=None), empty_evals, empty_comp)
    with pytest.raises(ValueError, match="records no m1_params"):
        m1_parameter_count(unrecorded, AnalysisOptions())
