# nc: the two Quick-start commands and their building blocks.
#
#   make tiny    create .venv (if missing), install nc, run the whole workflow at the tiny scale
#   make test    create/refresh .venv, lint (ruff, mypy), build .venv-tfc, install SLURM if possible, run the tests
#
# Variables: PYTHON (interpreter for new venvs), PYTEST_WORKERS (pytest-xdist -n), TEST_TIMEOUT (seconds
# per test), PYTEST_ARGS (extra pytest arguments, e.g. PYTEST_ARGS='-m "not slurm"'), SKIP_TFC=1 (do not
# build the tensorflow-compression reference venv; its test then skips).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PYTEST_WORKERS ?= auto
TEST_TIMEOUT ?= 3000
PYTEST_ARGS ?=
SLURM_PACKAGES := slurmctld slurmd slurm-client munge

BIN := $(VENV)/bin
# The stamp is newer than pyproject.toml once the editable install matches it.
INSTALLED := $(VENV)/.nc-installed
# Rules' shell commands call `python`/`snakemake`: the venv comes first on PATH.
RUN := PATH="$(abspath $(BIN)):$$PATH"

.PHONY: help venv tiny smoke test lint tfc-venv slurm-packages paper-dag clean-venv

help:
	@echo "make tiny        run the workflow at the tiny scale on this machine (results/tiny/)"
	@echo "make test        run the linters and the test suite, as CI does"
	@echo "make lint        ruff (lint and format check) and mypy only"
	@echo "make smoke       run the smoke DAG locally (results/smoke/)"
	@echo "make paper-dag   dry-run the paper-scale DAG through the SLURM profile"
	@echo "make venv        create or refresh $(VENV) only"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

venv: $(INSTALLED)

tiny: $(INSTALLED)
	$(RUN) snakemake --profile profiles/local

smoke: $(INSTALLED)
	$(RUN) snakemake --profile profiles/local --config scale=smoke

paper-dag: $(INSTALLED)
	$(RUN) snakemake --profile slurm --config scale=paper --dry-run --quiet rules

# The reference venv (tensorflow-compression) for the coder cross-check; the script is idempotent.
tfc-venv:
	@if [ -n "$${SKIP_TFC:-}" ]; then \
	  echo "tfc-venv: SKIP_TFC set, not building .venv-tfc"; \
	elif [ -f scripts/make_tfc_venv.sh ]; then \
	  bash scripts/make_tfc_venv.sh; \
	else \
	  echo "tfc-venv: scripts/make_tfc_venv.sh absent, nothing to build"; \
	fi

# The SLURM integration tests start their own daemons from these Debian packages. Installing needs
# root and apt-get; elsewhere the tests say why they skip.
slurm-packages:
	@missing=""; \
	for prog in slurmctld slurmd sbatch srun squeue munged mungekey; do \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$prog >/dev/null 2>&1 || missing="$$missing $$prog"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "slurm-packages: SLURM and munge already installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "slurm-packages: installing $(SLURM_PACKAGES) (missing:$$missing)"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SLURM_PACKAGES); \
	else \
	  echo "slurm-packages: missing$$missing; not root or no apt-get, the SLURM tests will skip"; \
	fi

# Lint and format check (ruff) and type check (mypy), configured in pyproject.toml. `ruff format` and
# `ruff check --fix` apply the fixes.
LINTED := src tests benchmarks workflow scripts
lint: $(INSTALLED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# pytest exit status 5 means no test was collected: reported and kept as a failure.
test: $(INSTALLED) lint tfc-venv slurm-packages
	@status=0; \
	$(RUN) python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --timeout $(TEST_TIMEOUT) -ra --durations=15 $(PYTEST_ARGS) \
	  || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

clean-venv:
	rm -rf $(VENV)
