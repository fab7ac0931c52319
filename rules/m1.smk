# M1: the byte-level language model used as the compressor's probability source (Section 3.2).


rule train_m1:
    input:
        train=f"{R}/data/m1_train/manifest.json",
        valid=f"{R}/data/valid/manifest.json",
    output:
        eval=f"{R}/m1/eval.json",
        metrics=f"{R}/m1/metrics.csv",
    params:
        m1=M1,
        run_dir=lambda wildcards, output: os.path.dirname(output.eval),
        processes=rule_resources(config, "train_m1"),
    threads: threads_of("train_m1")
    resources:
        **resources_of("train_m1"),
    log:
        f"{R}/logs/train_m1.log",
    benchmark:
        f"{R}/benchmarks/train_m1.tsv"
    script:
        "../workflow/scripts/train_m1.py"
