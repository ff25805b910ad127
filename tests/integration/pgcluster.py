"""A throwaway PostgreSQL primary and a streaming replica made with ``pg_basebackup``, each
on a free port, for the replica test (tests/integration/test_replica.py).

Uses the server binaries in ``PG_BIN`` (default ``/usr/lib/postgresql/15/bin``, where CI
has them). The servers refuse to run as root: as root they run as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable() -> str:
    """Why a cluster cannot be started here ('' when it can)."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (PG_BIN / tool).is_file():
            return f"no PostgreSQL server binaries at {PG_BIN} (set PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the servers as"
        if not shutil.which("runuser"):
            return "running as root without runuser"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Primary and replica under ``root``; ``stop()`` ends both."""

    def __init__(self, root: Path):
        self.root = root
        self.primary_dir = root / "primary"
        self.replica_dir = root / "replica"
        self.socket_dir = root / "sockets"
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.started: list[Path] = []

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(  # noqa: S603 - PostgreSQL's own tools, our arguments
            [*prefix, *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=kwargs.pop("timeout", 120),
            **kwargs,
        )

    def _start(self, data: Path, port: int) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / f"{data.name}.log"),
            "-o",
            f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on",
            "-w",
            "start",
        )
        self.started.append(data)

    def start(self) -> None:
        for d in (self.root, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for d in (self.root, self.socket_dir):
                os.chown(d, user.pw_uid, user.pw_gid)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.primary_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self._start(self.primary_dir, self.primary_port)
        self.psql_primary("CREATE DATABASE careplan")

    def start_replica(self) -> None:
        self._run(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(self.replica_dir),
            "-R",  # standby.signal and primary_conninfo: stream from the primary
            "-X",
            "stream",
            "--checkpoint=fast",  # not a spread checkpoint: minutes on an idle server
            "--no-sync",
        )
        self._start(self.replica_dir, self.replica_port)

    def psql_primary(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.primary_port, user="postgres", dbname="postgres",
            autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(sql)

    def url(self, which: str) -> str:
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgres://postgres@127.0.0.1:{port}/careplan"

    def stop(self) -> None:
        for data in reversed(self.started):
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        self.started.clear()

    def wait_replayed(self, timeout: float = 30) -> None:
        import psycopg

        def one(port: int, sql: str):
            with psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="careplan", autocommit=True
            ) as conn:
                return conn.execute(sql).fetchone()[0]

        target = one(self.primary_port, "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            behind = one(
                self.replica_port,
                f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())",
            )
            if behind is not None and behind <= 0:
                return
            time.sleep(0.1)
        raise TimeoutError("the replica did not catch up")
