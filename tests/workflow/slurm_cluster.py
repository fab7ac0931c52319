"""A throwaway single-node SLURM cluster for integration tests.

`SlurmCluster` writes its own munge key, slurm.conf and cgroup.conf into a private directory, starts
munged, slurmctld and slurmd in the foreground as child processes (no systemd), waits until the node is
idle and stops exactly those processes by PID.  Every path, port and socket is private to the instance,
so nothing on the host (a system SLURM or munge) is touched or reused.

Clients reach the cluster through the environment returned by `SlurmCluster.env()`: ``SLURM_CONF``
points at the private slurm.conf, whose ``AuthInfo`` names the private munge socket.

The Debian packages (slurmctld, slurmd, slurm-client, munge) provide the daemons; `ensure_installed`
installs them with apt-get when missing, and `unavailable_reason` says why a cluster cannot run here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scontrol")
PARTITION = "debug"
NODE_NAME = "ncnode"
# The executor plugin polls squeue (no slurmdbd here), so finished jobs must stay visible to squeue for
# at least 3x its first status-check delay; the tests also read every job's final state from squeue
# after the run, so finished jobs stay listed for two hours, longer than any test's run.
MIN_JOB_AGE_S = 7200


def _find_program(name: str) -> str | None:
    """`shutil.which` that also searches the sbin directories (daemons live there, PATH may lack them)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    return shutil.which(name, path=path)


def _sbin_which(name: str) -> str:
    """The path of an installed program (``missing_programs`` says which are absent)."""
    found = _find_program(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (searched PATH and the sbin directories)")
    return found


def missing_programs() -> list[str]:
    """Daemons and client commands this harness needs that are not installed."""
    return [name for name in DAEMONS + CLIENTS + ("mungekey",) if _find_program(name) is None]


def unavailable_reason() -> str | None:
    """Why no cluster can be started here (None when the programs are installed and we are root)."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "SLURM test cluster needs a POSIX system"
    if os.geteuid() != 0:
        return "SLURM test cluster runs slurmd as root (it launches jobs as the submitting user); not root"
    missing = missing_programs()
    if missing:
        return f"SLURM programs not installed: {', '.join(missing)}"
    return None


def ensure_installed(timeout_s: float = 900) -> str | None:
    """Install the Debian SLURM packages when programs are missing.

    Returns None when everything is installed afterwards, else the reason it could not be (no apt-get,
    not root, or apt-get failed, with the tail of its output).
    """
    if not missing_programs():
        return None
    if shutil.which("apt-get") is None:
        return f"SLURM programs missing ({', '.join(missing_programs())}) and apt-get is unavailable"
    if os.geteuid() != 0:
        return f"SLURM programs missing ({', '.join(missing_programs())}) and not root (apt-get needs root)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *DEBIAN_PACKAGES]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
        if proc.returncode != 0:
            return f"{' '.join(cmd)} failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-2000:]}"
    missing = missing_programs()
    return f"still missing after apt-get install: {', '.join(missing)}" if missing else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _total_memory_mb() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("MemTotal missing from /proc/meminfo")


@dataclass
class SlurmCluster:
    """One controller + one compute node on localhost, configured under `root`.

    Use as a context manager, or call `start()` / `stop()`.  `cpus` and `memory_mb` default to the
    machine's CPU count and at least 64 GB; the node accepts jobs asking for at most that much.
    """

    root: Path
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Memory is neither consumable (CR_Core) nor enforced (task/none) here, so the node advertises at
    # least 64 GB: jobs asking for a cluster-sized mem_mb still schedule on a small test machine.
    memory_mb: int = field(default_factory=lambda: max(_total_memory_mb(), 64_000))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.log_dir = self.root / "log"

    # -- configuration -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for client commands (sbatch, squeue, snakemake) that talk to this cluster."""
        env = dict(os.environ, SLURM_CONF=str(self.conf))
        env["PATH"] = os.pathsep.join([str(self.root / "bin"), env.get("PATH", ""), "/usr/sbin"])
        for key in [k for k in env if k.startswith("SLURM_") and k != "SLURM_CONF"]:
            del env[key]  # a surrounding allocation must not leak into jobs submitted here
        return env

    def _write_config(self) -> None:
        for sub in ("munge", "state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "munge").chmod(0o755)  # munged: socket dir must be searchable
        key = self.root / "munge" / "munge.key"
        if not key.exists():
            subprocess.run([_sbin_which("mungekey"), "--create", f"--keyfile={key}"], check=True)
        key.chmod(0o600)
        r = self.root
        lines = [
            "ClusterName=nctest",
            f"SlurmctldHost={socket.gethostname().split('.')[0]}(127.0.0.1)",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            f"StateSaveLocation={r / 'state'}",
            f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'slurmctld.pid'}",
            f"SlurmdPidFile={r / 'slurmd.pid'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            # No cgroups: the test host's cgroup hierarchy belongs to whoever runs the tests.
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SlurmdParameters=config_overrides",
            "ReturnToService=2",
            f"MinJobAge={MIN_JOB_AGE_S}",
            "MpiDefault=none",
            "SwitchType=switch/none",
            f"NodeName={NODE_NAME} NodeAddr=127.0.0.1 NodeHostname={NODE_NAME} CPUs={self.cpus} "
            f"RealMemory={self.memory_mb} State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={NODE_NAME} Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        self._write_srun_shim()
        # Read by slurmd even with proctrack/linuxproc; autodetect never mounts anything itself.
        (self.root / "cgroup.conf").write_text("CgroupPlugin=autodetect\nIgnoreSystemd=yes\n")

    def _write_srun_shim(self) -> None:
        """Put an `srun` on the jobs' PATH that names the private slurm.conf.

        Inside a batch job the Snakemake jobstep executor starts each rule with a nested `srun` whose
        environment keeps only the job-identity SLURM_* variables, dropping SLURM_CONF; srun would then
        look for /etc/slurm/slurm.conf, which a real cluster has and this private one must not write.
        PATH survives (sbatch --export=ALL), so this wrapper restores SLURM_CONF for that one call.
        """
        bin_dir = self.root / "bin"
        bin_dir.mkdir(exist_ok=True)
        shim = bin_dir / "srun"
        shim.write_text(f'#!/bin/sh\nSLURM_CONF="{self.conf}" exec "{shutil.which("srun")}" "$@"\n')
        shim.chmod(0o755)

    # -- lifecycle -----------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.log_dir / f"{name}.out", "ab")
        self.processes[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
        )
        log.close()

    def start(self, timeout_s: float = 60) -> SlurmCluster:
        """Write the configuration, start the three daemons and wait until the node is idle."""
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self._write_config()
        munge_dir = self.root / "munge"
        try:
            self._spawn(
                "munged",
                [
                    _sbin_which("munged"),
                    "--foreground",
                    "--force",
                    f"--socket={self.munge_socket}",
                    f"--key-file={munge_dir / 'munge.key'}",
                    f"--pid-file={munge_dir / 'munged.pid'}",
                    f"--seed-file={munge_dir / 'munged.seed'}",
                    f"--log-file={self.log_dir / 'munged.log'}",
                ],
            )
            self._wait_for(lambda: self.munge_socket.exists(), timeout_s, "munged socket")
            self._spawn("slurmctld", [_sbin_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait_for(self._controller_answers, timeout_s, "slurmctld to answer")
            self._spawn("slurmd", [_sbin_which("slurmd"), "-D", "-N", NODE_NAME, "-f", str(self.conf)])
            self._wait_for(self._node_idle, timeout_s, f"node {NODE_NAME} to become idle")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace_s: float = 15) -> None:
        """Stop the daemons this instance started (slurmd first), by PID: SIGTERM, then SIGKILL."""
        for name in reversed(DAEMONS):
            proc = self.processes.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=grace_s)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- queries -------------------------------------------------------------------------------
    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a SLURM client command against this cluster."""
        return subprocess.run(list(argv), env=self.env(), capture_output=True, text=True, check=check, timeout=30)

    def _controller_answers(self) -> bool:
        return self.run("scontrol", "ping", check=False).stdout.count("UP") > 0

    def _node_idle(self) -> bool:
        state = self.run("sinfo", "-h", "-N", "-n", NODE_NAME, "-o", "%T", check=False).stdout.strip()
        return state == "idle"

    def job_states(self) -> dict[str, str]:
        """Job id -> state for every job the controller remembers, finished ones included."""
        out = self.run("squeue", "-h", "-t", "all", "-o", "%i|%T").stdout
        return dict(line.split("|", 1) for line in out.splitlines() if line.strip())

    def _wait_for(self, predicate, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}) while waiting for {what}:\n{self.logs()}")
            if predicate():
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}:\n{self.logs()}")

    def logs(self, tail_chars: int = 3000) -> str:
        """The tails of every daemon log, for failure messages."""
        parts = []
        for path in sorted(self.log_dir.glob("*")):
            text = path.read_text(errors="replace")[-tail_chars:]
            parts.append(f"--- {path.name} ---\n{text}")
        return "\n".join(parts)
