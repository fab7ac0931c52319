# The SentencePiece baseline's tokenizer (Section 3.6), trained on M2's training text, or the pre-trained
# model named by sentencepiece.model_file (the paper: T5's cc_all.32000, docs/RUNNING.md).


rule train_sentencepiece:
    input:
        unpack(sentencepiece_inputs),
    output:
        model=f"{R}/sentencepiece/spm.model",
    params:
        sentencepiece=SENTENCEPIECE,
    threads: threads_of("train_sentencepiece")
    resources:
        **resources_of("train_sentencepiece"),
    log:
        f"{R}/logs/train_sentencepiece.log",
    benchmark:
        f"{R}/benchmarks/train_sentencepiece.tsv"
    script:
        "../workflow/scripts/train_sentencepiece.py"
