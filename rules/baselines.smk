# The SentencePiece baseline's tokenizer (Section 3.6), trained on M2's training text, or the pre-trained
# model named by sentencepiece.model_file (the paper: T5's cc_all.32000, docs/RUNNING.md).


def sentencepiece_inputs(wildcards):
    # A pre-trained model is a parameter, not an input: the DAG builds (and dry-runs) on machines without
    # the file; the job checks it and names it if it is missing.
    return {} if config["sentencepiece"].get("model_file") else {"train": f"{R}/data/m2_train/manifest.json"}


rule train_sentencepiece:
    input:
        unpack(sentencepiece_inputs),
    output:
        model=f"{R}/sentencepiece/spm.model",
    params:
        sentencepiece=config["sentencepiece"],
    threads: threads_of("train_sentencepiece")
    resources:
        **resources_of("train_sentencepiece"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/train_sentencepiece.log",
    benchmark:
        f"{R}/benchmarks/train_sentencepiece.tsv"
    script:
        "../workflow/scripts/train_sentencepiece.py"
