"""A real one-node SLURM cluster on loopback, for the SLURM engine's tests and benchmark.

:func:`start` runs ``munged``, ``slurmctld`` and ``slurmd`` (Debian's packages) in the
foreground as children of this process, everything in a temporary directory: the munge key,
socket and logs, ``slurm.conf`` with free TCP ports, the controller's state and the node's
spool. Clients and daemons find the cluster through ``SLURM_CONF`` (set in ``os.environ``
while the cluster runs) and munge through ``AuthInfo=socket=...``, so a system's own SLURM or
munge is never touched. :meth:`Cluster.stop` ends every daemon it started, by PID.

It needs root (slurmd runs jobs as their users; munged must run as user ``munge``) and the
packages ``slurmctld slurmd slurm-client munge``; :func:`unavailable` says why it cannot run
here, for a skip message.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scontrol", "scancel", "srun")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
START_TIMEOUT = 60.0


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN:
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def unavailable() -> str | None:
    """Why a cluster cannot be started here (None: it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a SLURM test cluster needs root (slurmd runs jobs as their users, munged as user munge)"
    missing = [b for b in BINARIES if _which(b) is None]
    if missing:
        return ("SLURM/munge not installed (missing " + ", ".join(missing)
                + "): apt-get install slurmctld slurmd slurm-client munge")
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no user 'munge' (the munge package creates it)"
    return None


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Cluster:
    """A running cluster: its directory, config file, partition and daemons."""

    root: Path
    conf: Path
    host: str
    partition: str = "debug"
    cpus: int = 2
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    saved_env: str | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def log(self, name: str) -> str:
        try:
            return (self.root / "log" / f"{name}.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Cancel every job, SIGTERM each daemon (the node first; SIGKILL after 10 s), then
        SIGKILL whatever of a job is left (a batch script, srun, a program): each found by the
        cluster's ``SLURM_CONF`` in its environment, which only this cluster's processes have."""
        env = {**os.environ, **self.env}
        if self.procs.get("slurmctld") is not None and self.procs["slurmctld"].poll() is None:
            ids = subprocess.run(["squeue", "--noheader", "--format=%A"], capture_output=True, text=True,
                                 env=env, timeout=30).stdout.split()
            if ids:
                subprocess.run(["scancel", *ids], capture_output=True, env=env, timeout=30)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and subprocess.run(
                        ["squeue", "--noheader", "--states=RUNNING,COMPLETING,CONFIGURING"], capture_output=True,
                        text=True, env=env, timeout=30).stdout.strip():
                    time.sleep(0.2)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for pid in job_processes(self.conf):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.procs.clear()
        if self.saved_env is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = self.saved_env
        shutil.rmtree(self.root, ignore_errors=True)


def job_processes(conf: Path) -> list[int]:
    """Live processes (not zombies) started for the cluster of ``conf``: slurmstepd, batch
    scripts, srun and the programs, all of which carry ``SLURM_CONF=conf``."""
    mark = f"SLURM_CONF={conf}".encode()
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            environ = (p / "environ").read_bytes()
            status = (p / "status").read_text()
        except OSError:
            continue
        if mark in environ.split(b"\0") and "\nState:\tZ" not in status:
            out.append(int(p.name))
    return out


def _conf_text(root: Path, host: str, cpus: int, ports: list[int], munge_socket: Path,
               extra: tuple[str, ...] = ()) -> str:
    return "\n".join([*extra,
        "ClusterName=flowstest",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={ports[0]}",
        f"SlurmdPort={ports[1]}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "ReturnToService=2",
        "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none",
        "SchedulerType=sched/backfill",
        # small cluster, fast tests: jobs are killed 2 s after their signal, ended jobs stay
        # visible to squeue for 10 min, the scheduler looks at new jobs at once
        "KillWait=2",
        "MinJobAge=600",
        "SchedulerParameters=defer_batch=0",
        "MessageTimeout=10",
        "InactiveLimit=0",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=8000 State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def start(cpus: int = 2, extra: tuple[str, ...] = ()) -> Cluster:
    """Start munged, slurmctld and slurmd; return when ``sinfo`` shows the node idle.
    ``extra``: more ``slurm.conf`` lines (``MaxArraySize=3``)."""
    why = unavailable()
    if why:
        raise RuntimeError(why)
    munge_user = pwd.getpwnam("munge")
    host = socket.gethostname().split(".")[0]
    root = Path(tempfile.mkdtemp(prefix="flows-slurm-"))
    os.chmod(root, 0o755)  # munged checks the directories above its socket
    for sub in ("state", "spool", "log"):
        (root / sub).mkdir()
    mdir = root / "munge"
    mdir.mkdir(mode=0o700)
    key = mdir / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o400)
    for path in (mdir, key):
        os.chown(path, munge_user.pw_uid, munge_user.pw_gid)
    sock = mdir / "munge.socket"
    conf = root / "slurm.conf"
    conf.write_text(_conf_text(root, host, cpus, _free_ports(2), sock, extra))
    cluster = Cluster(root, conf, host, cpus=cpus, saved_env=os.environ.get("SLURM_CONF"))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    logs = {}
    try:
        logs["munged"] = open(root / "log" / "munged.out", "wb")  # noqa: SIM115 - closed below
        cluster.procs["munged"] = subprocess.Popen(
            [_which("munged") or "munged", "--foreground", "--force", f"--socket={sock}",
             f"--key-file={key}", f"--pid-file={mdir / 'munged.pid'}", f"--log-file={mdir / 'munged.log'}",
             f"--seed-file={mdir / 'munged.seed'}"],
            user=munge_user.pw_uid, group=munge_user.pw_gid, extra_groups=[], env=env,
            stdout=logs["munged"], stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        _wait(lambda: sock.exists(), "munged's socket", cluster, "munged")
        for name in ("slurmctld", "slurmd"):
            logs[name] = open(root / "log" / f"{name}.out", "wb")  # noqa: SIM115 - closed below
            cluster.procs[name] = subprocess.Popen(
                [_which(name) or name, "-D"], env=env, stdout=logs[name], stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        os.environ["SLURM_CONF"] = str(conf)

        def idle() -> bool:
            proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env,
                                  timeout=20)
            return proc.returncode == 0 and proc.stdout.strip() == "idle"

        _wait(idle, "the node to be idle in sinfo", cluster, "slurmctld")
    except BaseException:
        cluster.stop()
        raise
    finally:
        for fh in logs.values():
            fh.close()
    return cluster


def _wait(ready: object, what: str, cluster: Cluster, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for n, proc in cluster.procs.items():
            if proc.poll() is not None:
                out = (cluster.root / "log" / f"{n}.out").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{n} exited with status {proc.returncode}: {out}{cluster.log(n)}")
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}: {cluster.log(name)}")
