# M2 training and evaluation per (method, size, variant, seed) (Section 3.5), and the summary tables.


if not RUN_BUNDLES:

    rule train_m2:
        input:
            unpack(m2_datasets),
        output:
            eval=f"{R}/m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}/eval.json",
            evals=f"{R}/m2/{{slug}}/{{size}}/{{variant}}/seed{{seed}}/evals.csv",
        params:
            m2=M2,
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


# m2.runs_per_job > 1: one rule per job of several runs (nc.pipeline.config.run_bundles), each run's files
# its outputs, so a figure still asks for exactly the runs it needs.
for bundle in RUN_BUNDLES:

    rule:
        name:
            f"train_m2_{bundle.name}"
        input:
            **{f"{key}{i}": path for i, run in enumerate(bundle.runs)
               for key, path in run_datasets(run.slug, run.variant).items()},
        output:
            [f"{R}/{run.path}/{name}" for run in bundle.runs for name in ("eval.json", "evals.csv")],
        params:
            m2=M2,
            runs=[{"slug": run.slug, "size": run.size, "variant": run.variant, "seed": run.seed,
                   "run_dir": f"{R}/{run.path}"} for run in bundle.runs],
            processes=rule_resources(config, "train_m2", bundle.size),
        group: cluster_group("train_m2")
        threads: threads_of("train_m2")
        priority: bundle.priority
        resources:
            **resources_of("train_m2", bundle.size),
        log:
            f"{R}/logs/m2/jobs/{bundle.name}.log",
        benchmark:
            f"{R}/benchmarks/train_m2/jobs/{bundle.name}.tsv"
        script:
            "../workflow/scripts/train_m2_runs.py"


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
