"""synccore as separate processes: the CLI run to completion, a CLI sync or a worker in the
background, and stopping them as systemd does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from synccore.db import Database
from synccore.models import SyncOperation

from .paths import ROOT
from .sheets import api_env


def run_synccore(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m synccore ARGS` in `cwd` to completion, with no SYNCCORE_ or GOOGLE_ setting
    but those in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCCORE_", "GOOGLE_"))}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "synccore", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def synccore_env(database_url: str, server, **extra: str) -> dict[str, str]:
    """This process's environment without its SYNCCORE_/GOOGLE_ settings, reading the stand-in
    `server`'s sheet into `database_url`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCCORE_", "GOOGLE_"))}
    env.update(api_env(server))
    env.update(SYNCCORE_DATABASE_URL=database_url)
    env.update(extra)
    return env


def worker_env(database_url: str, server, **extra: str) -> dict[str, str]:
    return synccore_env(database_url, server, **({"SYNCCORE_HEARTBEAT_TIMEOUT": "10"} | extra))


def start_synccore(env: dict[str, str], command: str = "sync") -> subprocess.Popen:
    """`python -m synccore COMMAND` in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "synccore", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return start_synccore(env, "worker")


def running_stage(db: Database, proc: subprocess.Popen) -> tuple[int, str | None] | None:
    """(operation id, stage) of the active operation run by `proc`, if it has one."""
    with db.session() as s:
        op = s.scalars(
            select(SyncOperation).where(
                SyncOperation.active_slot.is_not(None), SyncOperation.pid == proc.pid
            )
        ).first()
        return (op.id, op.stage) if op else None


def stop_all(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    """SIGTERM to all at once (one stopped before the others could leave them a new sync)."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    return [stop(proc, signalled=True) for proc in procs]


def stop(proc: subprocess.Popen, timeout: float = 30, signalled: bool = False) -> tuple[int, str]:
    """SIGTERM, as systemd and docker stop do; the exit code and what it logged. One signal:
    a second one during interpreter exit meets the default handler."""
    if not signalled:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err
