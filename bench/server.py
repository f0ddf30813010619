"""Throwaway databases and the real server: ``pressflow init --demo`` and gunicorn on an ephemeral port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bench.client import Client
from bench.scenario import ROOT

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "pressflow-bench-secret-key-not-for-production"  # noqa: S105 - a throwaway server's key
BIN = Path(sys.executable).parent


class Unreachable(Exception):
    """PostgreSQL cannot be used for the bench; the message says why."""


def pg_server_url() -> str:
    """The PostgreSQL server to make the bench's databases on."""
    for name in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return DEFAULT_PG_URL


class Databases:
    """Fresh databases on one backend, each a copy of one set up by ``pressflow init --demo`` (made once)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.template = ""
        self.made: list[str] = []
        self._admin: Engine | None = None

    def fresh(self, tag: str) -> str:
        """A new database holding the migrated schema, the deployed processes and the demo organisation."""
        if not self.template:
            self.template = self._create("template")
            init_database(self.template)
        if self.backend == "sqlite":
            target = self.folder / f"{tag}.db"
            shutil.copyfile(make_url(self.template).database or "", target)
            return f"sqlite:///{target}"
        name = f"pf_bench_{tag}_{os.getpid()}"
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                      f'CREATE DATABASE "{name}" TEMPLATE "{make_url(self.template).database}"')
        self.made.append(name)
        return make_url(pg_server_url()).set(database=name).render_as_string(hide_password=False)

    def _create(self, tag: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / f'{tag}.db'}"
        name = f"pf_bench_{tag}_{os.getpid()}"
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return make_url(pg_server_url()).set(database=name).render_as_string(hide_password=False)

    def _execute(self, *statements: str) -> None:
        if self._admin is None:
            self._admin = create_engine(pg_server_url(), isolation_level="AUTOCOMMIT",
                                        connect_args={"connect_timeout": 3})
        try:
            with self._admin.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        except OperationalError as exc:
            raise Unreachable(f"PostgreSQL at {make_url(pg_server_url()).render_as_string()}: "
                              f"{str(exc.orig or exc).strip().splitlines()[0]}") from exc

    def drop_all(self) -> None:
        """Drop every database made (PostgreSQL; SQLite files go with their folder)."""
        if self._admin is None:
            return
        for name in self.made:
            with contextlib.suppress(OperationalError):
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.dispose()


def pressflow_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bench server or worker: its own database and key, nothing from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSFLOW_")}
    return env | {"PRESSFLOW_DATABASE_URL": database_url, "PRESSFLOW_SECRET_KEY": SECRET} | extra


def init_database(database_url: str) -> None:
    """Migrate, deploy processes/ and seed the demo organisation, as ``make run`` does."""
    subprocess.run([str(BIN / "pressflow"), "init", "--demo"], env=pressflow_env(database_url), cwd=ROOT,  # noqa: S603
                   check=True, capture_output=True)


def free_port() -> int:
    """An ephemeral port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running gunicorn."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """The pids of gunicorn's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


@contextlib.contextmanager
def serve(database_url: str, workers: int, log_dir: Path) -> Iterator[Server]:
    """Run ``pressflow serve`` (gunicorn) on the database until the block ends."""
    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own entry point
            [str(BIN / "pressflow"), "serve", "--port", str(port), "--workers", str(workers)],
            env=pressflow_env(database_url), cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            Client(server.port).request("GET", "/api/v1/openapi.json")
            if len(server.worker_pids()) >= 1:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready after {seconds}s:\n{server.log.read_text(errors='replace')[-2000:]}")


def sql_engine(database_url: str) -> Engine:
    """A SQLAlchemy engine of the bench's own on a bench database (tuned like the app's on SQLite)."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    db = create_engine(url)
    if db.dialect.name == "sqlite":
        from webapp import tune_sqlite

        tune_sqlite(db, 30.0)
    return db
