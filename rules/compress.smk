# Tokenise / compress each split per method as parallel shards, listed for M2 by a manifest per split with
# the method's compression statistics (Tables 1-3, 12), and the sequence-to-sequence datasets of Table 5.
# M2 reads the shards in place: nothing joins a method's tokens into one file.


rule compress_shard:
    input:
        unpack(tokenizer_inputs),
        examples=f"{R}/data/{{split}}/manifest.json",
    output:
        f"{R}/compression/{{slug}}/shards/{{split}}/{{shard}}-of-{{num_shards}}/meta.json",
    params:
        m1_dir=lambda wildcards, input: os.path.dirname(input.m1) if "m1" in input.keys() else None,
        m1_size=M1.size,
        seq_len=M2.seq_len,
        coding=CODING,
    group: cluster_group("compress_shard")
    threads: threads_of("compress_shard")
    resources:
        **method_resources("compress_shard"),
    log:
        f"{R}/logs/compress/{{slug}}/{{split}}/{{shard}}-of-{{num_shards}}.log",
    benchmark:
        f"{R}/benchmarks/compress_shard/{{slug}}/{{split}}/{{shard}}-of-{{num_shards}}.tsv"
    script:
        "../workflow/scripts/compress_shard.py"


rule method_manifests:
    # One job per method: both splits' manifests, then the method's statistics (cheap, and a separate
    # job each would cost a cluster submission per method and split).
    input:
        train=lambda wildcards: shard_markers(wildcards, "m2_train"),
        valid=lambda wildcards: shard_markers(wildcards, "valid"),
    output:
        train=f"{R}/compression/{{slug}}/m2_train/manifest.json",
        valid=f"{R}/compression/{{slug}}/valid/manifest.json",
        stats=f"{R}/compression/{{slug}}/stats.json",
    group: cluster_group("method_manifests")
    threads: threads_of("method_manifests")
    resources:
        **resources_of("method_manifests"),
    log:
        f"{R}/logs/manifests/{{slug}}.log",
    benchmark:
        f"{R}/benchmarks/method_manifests/{{slug}}.tsv"
    script:
        "../workflow/scripts/method_manifests.py"


rule seq2seq_shard:
    input:
        m1=f"{R}/m1/eval.json",
        examples=f"{R}/data/{{split}}/manifest.json",
    output:
        **{task: f"{R}/compression/{{slug}}/seq2seq-{task}/shards/{{split}}/{{shard}}-of-{{num_shards}}/meta.json"
           for task in SEQ2SEQ_TASKS},
    params:
        m1_dir=lambda wildcards, input: os.path.dirname(input.m1),
        seq2seq=SEQ2SEQ,
        coding=CODING,
        total_chunks=lambda wildcards: seq2seq_chunks(SEQ2SEQ, M2, wildcards.split),
    group: cluster_group("seq2seq_shard")
    threads: threads_of("seq2seq_shard")
    resources:
        **method_resources("seq2seq_shard"),
    log:
        f"{R}/logs/seq2seq/{{slug}}/{{split}}/{{shard}}-of-{{num_shards}}.log",
    benchmark:
        f"{R}/benchmarks/seq2seq_shard/{{slug}}/{{split}}/{{shard}}-of-{{num_shards}}.tsv"
    script:
        "../workflow/scripts/seq2seq_shard.py"


rule seq2seq_manifests:
    input:
        unpack(seq2seq_shard_markers),
    output:
        **{task: f"{R}/compression/{{slug}}/seq2seq-{task}/{{split}}/manifest.json" for task in SEQ2SEQ_TASKS},
    params:
        tasks=SEQ2SEQ_TASKS,
    log:
        f"{R}/logs/seq2seq/{{slug}}/{{split}}/manifests.log",
    script:
        "../workflow/scripts/seq2seq_manifests.py"
