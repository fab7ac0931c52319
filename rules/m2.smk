# M2 training and evaluation per (method, size, variant, seed) (Section 3.5), and the summary tables.


rule train_m2:
    input:
        unpack(m2_datasets),
    output:
        eval=f"{R}/m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}/eval.json",
        evals=f"{R}/m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}/evals.csv",
    params:
        m2=config["m2"],
        run_dir=lambda wildcards, output: os.path.dirname(output.eval),
        processes=lambda wildcards: rule_resources(config, "train_m2", wildcards.size),
    group: cluster_group("train_m2")
    threads: threads_of("train_m2")
    resources:
        **size_resources("train_m2"),
    log:
        f"{R}/logs/m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train_m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}.tsv"
    script:
        "../workflow/scripts/train_m2.py"


rule collect_summaries:
    input:
        runs=[f"{R}/{run.path}/eval.json" for run in RUNS],
        stats=[f"{R}/compression/{slug}/stats.json" for slug in LM_SLUGS],
        spelling=[f"{R}/spelling/{scheme}/curve.csv" for scheme in SPELLING_SCHEMES],
    output:
        runs=f"{R}/summary/runs.csv",
        evals=f"{R}/summary/evals.csv",
        compression=f"{R}/summary/compression.csv",
        spelling=f"{R}/summary/spelling.csv",
    log:
        f"{R}/logs/collect_summaries.log",
    script:
        "../workflow/scripts/collect_summaries.py"
