# Appendix A.3 / Figure 13: spelling fine-tunes of pre-trained M2 models (nc.data.spelling documents the task).


rule spelling_finetune:
    input:
        unpack(spelling_inputs),
    output:
        curve=f"{R}/spelling/{{scheme}}/curve.csv",
    params:
        spelling=SPELLING,
        coding=CODING,
        m1_dir=f"{R}/m1",
    resources:
        **resources_of("spelling_finetune"),
    log:
        f"{R}/logs/spelling/{{scheme}}.log",
    benchmark:
        f"{R}/benchmarks/spelling_finetune/{{scheme}}.tsv"
    script:
        "../workflow/scripts/spelling_finetune.py"
