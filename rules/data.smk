# Corpus -> documents -> 10,240-byte examples (Section 3.1) -> the shuffled, sharded m1_train, m2_train and
# valid splits (nc.data.splits): corpus parts stream the json.gz files in parallel, each split shard gathers
# its bucket of the seeded shuffle from every part, and a manifest lists a split's shards.


rule corpus_part:
    output:
        f"{R}/data/parts/{{corpus_split}}/{{part}}-of-{{num_parts}}/meta.json",
    params:
        data=DATA.corpus_config,
    group: cluster_group("corpus_part")
    threads: threads_of("corpus_part")
    resources:
        **resources_of("corpus_part"),
    log:
        f"{R}/logs/data/parts/{{corpus_split}}/{{part}}-of-{{num_parts}}.log",
    benchmark:
        f"{R}/benchmarks/corpus_part/{{corpus_split}}/{{part}}-of-{{num_parts}}.tsv"
    script:
        "../workflow/scripts/corpus_part.py"


rule split_shard:
    input:
        parts=corpus_part_markers,
    output:
        f"{R}/data/{{data_split}}/shards/{{shard}}-of-{{num_shards}}/meta.json",
    params:
        split=lambda wildcards: DATA.splits[wildcards.data_split],
    group: cluster_group("split_shard")
    threads: threads_of("split_shard")
    resources:
        **resources_of("split_shard"),
    log:
        f"{R}/logs/data/{{data_split}}/{{shard}}-of-{{num_shards}}.log",
    benchmark:
        f"{R}/benchmarks/split_shard/{{data_split}}/{{shard}}-of-{{num_shards}}.tsv"
    script:
        "../workflow/scripts/split_shard.py"


rule split_manifest:
    input:
        shards=split_shard_markers,
    output:
        f"{R}/data/{{data_split}}/manifest.json",
    params:
        split=lambda wildcards: DATA.splits[wildcards.data_split],
    log:
        f"{R}/logs/data/{{data_split}}/manifest.log",
    script:
        "../workflow/scripts/split_manifest.py"


rule byte_unigram:
    # StaticAC's byte statistics of "the C4 training data" (Section 3.3): M1's training split, summed from
    # the byte counts its shards recorded while they were written.
    input:
        f"{R}/data/m1_train/manifest.json",
    output:
        f"{R}/data/byte_unigram.json",
    log:
        f"{R}/logs/data/byte_unigram.log",
    script:
        "../workflow/scripts/byte_unigram.py"
