# Tokenise / compress each split per method, as parallel shards merged afterwards (Sections 3.3-3.6),
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
    input:
        shard_markers,
    output:
        f"{R}/compression/{{slug}}/{{split}}/meta.json",
    threads: threads_of("merge_shards")
    resources:
        **resources_of("merge_shards"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/merge/{{slug}}/{{split}}.log",
    script:
        "../workflow/scripts/merge_shards.py"


rule compression_stats:
    input:
        train=f"{R}/compression/{{slug}}/m2_train/meta.json",
        valid=f"{R}/compression/{{slug}}/valid/meta.json",
    output:
        f"{R}/compression/{{slug}}/stats.json",
    resources:
        **resources_of("merge_shards"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/stats/{{slug}}.log",
    script:
        "../workflow/scripts/compression_stats.py"


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
