"""Rule train_sentencepiece: the SentencePiece baseline's unigram model."""

from _log import setup

from nc.pipeline.steps import train_sentencepiece_model

setup(snakemake)
train_sentencepiece_model(
    snakemake.input.get("train"), snakemake.output.model, snakemake.params.sentencepiece, threads=snakemake.threads
)
