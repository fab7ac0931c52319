"""Process set-up shared by every workflow job: logging to the rule's log file, JAX's compile cache and
the number of threads XLA's CPU backend may use.

Each Snakemake job is a fresh Python process, and most of a small job's time would otherwise go to
re-compiling the same XLA programs (runs that differ only in method or seed have identical shapes).
JAX's persistent compilation cache lets later jobs load those programs instead. A cached program is
the same executable the compiler would build, so results do not depend on whether the cache was hit.
"""

from __future__ import annotations

import atexit
import logging
import os
import resource
from pathlib import Path

# XLA's CPU backend on one thread: Eigen's thread pool off, one intra-op thread.
SINGLE_THREAD_XLA_FLAGS = ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1")

# Libraries that log every checkpoint step or backend probe at INFO.
NOISY_LOGGERS = ("absl", "jax._src.xla_bridge", "jax._src.compiler", "jax._src.cache_key")


def default_jax_cache_dir() -> Path:
    """``$NC_JAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/nc/jax`` (``~/.cache/nc/jax``)."""
    if os.environ.get("NC_JAX_CACHE_DIR"):
        return Path(os.environ["NC_JAX_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nc" / "jax"


def configure_logging(log_path: str | os.PathLike | None) -> None:
    """INFO-level logging of nc to ``log_path`` (stderr when None); third-party chatter at WARNING.

    Replaces handlers that imported libraries (absl) may have put on the root logger first.
    """
    logging.basicConfig(
        filename=log_path, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )
    logging.captureWarnings(True)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def enable_jax_compile_cache(cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Point JAX's persistent compilation cache at ``cache_dir`` (default ``default_jax_cache_dir()``).

    Set ``NC_JAX_CACHE_DIR=off`` to disable it. Returns the directory used, or None when disabled.
    """
    if os.environ.get("NC_JAX_CACHE_DIR", "").lower() == "off":
        return None
    path = Path(cache_dir) if cache_dir is not None else default_jax_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    # Through the environment, which JAX reads when it is first imported: jobs that never use JAX
    # (merging shards, SentencePiece) do not pay for importing it.
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    # Cache every program: the small models of the CPU scales compile in well under the 1 s default.
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"
    return path


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's ``VmHWM`` (the high-water mark of this program's memory): ``ru_maxrss`` would also count the
    memory of the Snakemake process the job was forked from, which Linux carries across ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log_peak_rss() -> None:
    """The job's last log line: its exact peak memory (Snakemake's benchmark files sample it every 0.5-30 s)."""
    logging.getLogger("nc.pipeline.runtime").info("peak_rss_mb=%.1f", peak_rss_mb())


def limit_cpu_threads(threads: int | None) -> None:
    """Keep XLA's CPU backend on one thread when the job was given one CPU (``threads == 1``).

    By default every XLA process spreads its operations over all of the machine's cores, so one-CPU
    jobs that Snakemake runs side by side contend for the same cores. One thread each is faster in
    total and no slower alone (``benchmarks/cpu_threads.py``; numbers in benchmarks/RESULTS.md).
    Flags already in ``XLA_FLAGS`` win. Only the CPU backend reads these flags, when JAX first creates
    it, so this must run before the job's first JAX computation (``setup_job`` runs first in every job).
    """
    if threads != 1:
        return
    flags = os.environ.get("XLA_FLAGS", "").split()
    names = {flag.split("=")[0] for flag in flags}
    flags += [flag for flag in SINGLE_THREAD_XLA_FLAGS if flag.split("=")[0] not in names]
    os.environ["XLA_FLAGS"] = " ".join(flags)


def setup_job(log_path: str | os.PathLike | None, threads: int | None = None) -> None:
    """Everything a workflow job needs before it calls its ``nc.pipeline.steps`` function; ``threads``
    is the job's CPU count (Snakemake's ``threads``)."""
    configure_logging(log_path)
    enable_jax_compile_cache()
    limit_cpu_threads(threads)
    atexit.register(log_peak_rss)
