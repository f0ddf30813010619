"""A real PressFlow stack for the race and crash tests: gunicorn on an ephemeral port, ``pressflow worker`` beside
it, on a SQLite file or a throwaway PostgreSQL database, set up by ``pressflow init --demo`` (the migrations)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from tests.conftest import BACKENDS, DEMO_PASSWORD, PG_URL, ROOT
from tests.integration.test_entrypoint import free_port

SCRIPTS = Path(sysconfig.get_path("scripts"))
QUICK_TIMER = ROOT / "tests" / "data" / "quick_timer.bpmn"
#: A second holder of the leader's role in 渝中区, so two different people can race for one task.
SECOND_LEADER = "yz_leader2"
STARTUP_SECONDS = 60
STRESS = bool(os.environ.get("PRESSFLOW_STRESS"))


class Answer:
    """A JSON answer of the live server."""

    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body


@dataclass
class Stack:
    """The database, the web server and the timer worker of one test."""

    database_url: str
    folder: Path
    port: int = field(default_factory=free_port)
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSFLOW_")}
        return env | {
            "PATH": os.pathsep.join([str(SCRIPTS), env.get("PATH", "")]),
            "PRESSFLOW_DATABASE_URL": self.database_url,
            "PRESSFLOW_SECRET_KEY": "live-stack-secret-key-not-for-production",
            "PRESSFLOW_DEMO_PASSWORD": DEMO_PASSWORD,
            "PRESSFLOW_RATE_LIMIT_SIGN_IN": "100000/60",
            "PRESSFLOW_WORKER_POLL_SECONDS": "0.2",
        }

    def pressflow(self, *args: str, stdin: str | None = None) -> str:
        """Run one ``pressflow`` command against this stack's database; fail the test if it fails."""
        done = subprocess.run([str(SCRIPTS / "pressflow"), *args], env=self.env, cwd=self.folder, input=stdin,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"pressflow {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def prepare(self) -> None:
        """``pressflow init --demo``, deploy the quick timer, add a second leader: in this process, for speed."""
        from click.testing import CliRunner
        from flask.cli import ScriptInfo

        from webapp import create_app
        from webapp.cli import main
        from webapp.extensions import db

        app = create_app({"SQLALCHEMY_DATABASE_URI": self.database_url})
        runner, info = CliRunner(), ScriptInfo(create_app=lambda: app)
        for args, stdin in ((["init", "--demo"], None), (["deploy", str(QUICK_TIMER)], None),
                            (["user", "create", SECOND_LEADER, "--name", "渝中区副职负责人"],
                             f"{DEMO_PASSWORD}\n{DEMO_PASSWORD}\n"),
                            (["user", "grant", SECOND_LEADER, "unit_leader", "yuzhong"], None)):
            result = runner.invoke(main, args, obj=info, input=stdin)
            assert result.exit_code == 0, f"pressflow {' '.join(args)}: {result.output}"
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    def start_server(self, workers: int = 2) -> None:
        with (self.folder / "server.log").open("ab") as log:
            self.server = subprocess.Popen(
                [str(SCRIPTS / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                 "--chdir", str(ROOT), "--graceful-timeout", "5", "webapp.wsgi:app"],
                env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._healthy():
            assert self.server.poll() is None, (self.folder / "server.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)

    def start_worker(self) -> None:
        with (self.folder / "worker.log").open("ab") as log:
            self.worker = subprocess.Popen([str(SCRIPTS / "pressflow"), "worker"], env=self.env, cwd=self.folder,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (the master's children)."""
        assert self.server is not None
        path = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def _healthy(self) -> bool:
        try:
            return self.call("GET", "/healthz", user=None).status == 200
        except OSError:
            return False

    # --- the API -------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, user: str | None = "yz_clerk",
             timeout: float = 60) -> Answer:
        """One JSON request; connection failures (a killed worker) raise OSError."""
        headers = {"Content-Type": "application/json"}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own server
                return Answer(response.status, json.loads(response.read() or b"null"))
        except urllib.error.HTTPError as error:
            raw = error.read()
            return Answer(error.code, json.loads(raw) if raw.startswith(b"{") else raw.decode(errors="replace"))

    def token(self, user: str) -> str:
        if user not in self.tokens:
            answer = self.call("POST", "/api/v1/auth/token", {"username": user, "password": DEMO_PASSWORD},
                               user=None)
            assert answer.status == 200, answer.body
            self.tokens[user] = answer.body["token"]
        return self.tokens[user]

    def start_quick_timer(self) -> tuple[int, str]:
        """Start a quick-timer application as 渝中区's leader (its first step is theirs); return it and that step."""
        started = self.call("POST", "/api/v1/instances", {"process": "quick_timer"}, user="yz_leader")
        assert started.status == 201, started.body
        return started.body["id"], self.open_task(started.body["id"], "budget_review")

    def open_task(self, instance_id: int, bpmn_id: str) -> str:
        found = self.call("GET", f"/api/v1/instances/{instance_id}", user="yz_leader")
        assert found.status == 200, found.body
        return next(t["id"] for t in found.body["tasks"] if t["bpmn_id"] == bpmn_id)

    def rows(self, query: str) -> list[Any]:
        """Run one SQL query on the stack's database, from the test's own connection."""
        engine: Engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query)).all())
        finally:
            engine.dispose()


def backend(stack: Stack) -> str:
    """Name the stack's database backend, for the figures."""
    return "sqlite" if stack.database_url.startswith("sqlite") else "postgresql"


@pytest.fixture(params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """A prepared stack (no processes started yet) on each backend."""
    if request.param == "sqlite":
        built = Stack(f"sqlite:///{tmp_path / 'pressflow.db'}", tmp_path)
        built.prepare()
        yield built
        built.stop()
        return
    yield from _pg_stack(tmp_path)


def _pg_stack(tmp_path: Path) -> Iterator[Stack]:
    import psycopg
    from psycopg import sql

    name = f"pf_live_{secrets.token_hex(4)}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    built = Stack(make_url(PG_URL).set(database=name).render_as_string(hide_password=False), tmp_path)
    try:
        built.prepare()
        yield built
    finally:
        built.stop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
