# Corpus -> documents -> 10,240-byte examples (Section 3.1): the m1_train, m2_train and valid splits.


rule prepare_data:
    output:
        m1_train=f"{R}/data/m1_train.npz",
        m2_train=f"{R}/data/m2_train.npz",
        valid=f"{R}/data/valid.npz",
    params:
        data=config["data"],
    threads: threads_of("prepare_data")
    resources:
        **resources_of("prepare_data"),
    conda:
        "../environment.yml"
    log:
        f"{R}/logs/prepare_data.log",
    script:
        "../workflow/scripts/prepare_data.py"
