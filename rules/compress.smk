# Tokenise / compress each split per method, as parallel shards merged afterwards with the method's
# compression statistics (Tables 1-3, 12) and the sequence-to-sequence datasets of Table 5.


rule compress_shard:
    input:
        unpack(tokenizer_inputs),
        examples=f"{R}/data/{{split}}.npz",
    output:
        f"{R}/compression/{{slug}}/shards/{{split}}/{{shard}}-of-{{num_shards}}/meta.json",
    params:
        m1_dir=lambda wildcards, input: os.path.dirname(input.m1) if "m1" in input.keys() else None,
        m1_size=config["m1"]["size"],
        seq_len=config["m2"]["seq_len"],
        coding=config["coding"],
    group: cluster_group("compress_shard")
    threads: threads_of("compress_shard")
    resources:
        **resources_of("compress_shard"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/compress/{{slug}}/{{split}}/{{shard}}-of-{{num_shards}}.log",
    script:
        "../workflow/scripts/compress_shard.py"


rule merge_shards:
    # One job per method: both splits' shards joined, then the method's statistics (cheap, and a
    # separate job each would cost a cluster submission per method and split).
    input:
        train=lambda wildcards: shard_markers(wildcards, "m2_train"),
        valid=lambda wildcards: shard_markers(wildcards, "valid"),
    output:
        train=f"{R}/compression/{{slug}}/m2_train/meta.json",
        valid=f"{R}/compression/{{slug}}/valid/meta.json",
        stats=f"{R}/compression/{{slug}}/stats.json",
    group: cluster_group("merge_shards")
    threads: threads_of("merge_shards")
    resources:
        **resources_of("merge_shards"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/merge/{{slug}}.log",
    script:
        "../workflow/scripts/merge_shards.py"


rule seq2seq_data:
    input:
        m1=f"{R}/m1/eval.json",
        examples=f"{R}/data/{{split}}.npz",
    output:
        compress=f"{R}/compression/{{slug}}/seq2seq-compress/{{split}}/meta.json",
        decompress=f"{R}/compression/{{slug}}/seq2seq-decompress/{{split}}/meta.json",
        bytelm=f"{R}/compression/{{slug}}/seq2seq-bytelm/{{split}}/meta.json",
    params:
        m1_dir=lambda wildcards, input: os.path.dirname(input.m1),
        seq2seq=config["seq2seq"],
        coding=config["coding"],
    threads: threads_of("seq2seq_data")
    resources:
        **resources_of("seq2seq_data"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/seq2seq/{{slug}}/{{split}}.log",
    script:
        "../workflow/scripts/seq2seq_data.py"
