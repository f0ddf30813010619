"""The container entrypoint, run outside Docker against PostgreSQL: migrate, serve, answer /healthz, stop on SIGTERM.

Docker cannot run on CI machines, so this runs ``docker/entrypoint.sh`` itself with the virtualenv's ``pressflow``
and ``gunicorn`` first on PATH, each test on a throwaway database of the PostgreSQL server that
``TEST_DATABASE_URL`` names (or the local one on 127.0.0.1:5432).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from tests.conftest import DEMO_PASSWORD, PG_URL, ROOT

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STARTUP_SECONDS = 60
STOP_SECONDS = 10  # docker stop's grace period before SIGKILL


def _admin_conninfo(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pg_server() -> str:
    """The PostgreSQL server to use; skip when there is none and none was asked for."""
    import psycopg

    url = PG_URL or LOCAL_PG
    try:
        psycopg.connect(_admin_conninfo(url), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if PG_URL:
            raise  # asked for PostgreSQL: an unreachable server is a failure, not a skip
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 and TEST_DATABASE_URL is unset ({exc})")
    return url


@pytest.fixture
def database_url(pg_server: str) -> Iterator[str]:
    """An empty database of its own on the server; dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"pf_entry_{secrets.token_hex(4)}"
    admin = _admin_conninfo(pg_server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Started:
    """One run of the entrypoint script and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def entrypoint(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Started]]:
    """``entrypoint("web", PRESSFLOW_BIND=...)`` starts the script in its own process group, logging to a file."""
    started: list[Started] = []
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSFLOW_")}
    env |= {
        "PATH": os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")]),
        "PRESSFLOW_DATABASE_URL": database_url,
        "PRESSFLOW_SECRET_KEY": "entrypoint-test-secret-key-not-for-production",
        "PRESSFLOW_DEMO_PASSWORD": DEMO_PASSWORD,
        "PRESSFLOW_WEB_WORKERS": "1",
    }

    def start(*args: str, **extra_env: str) -> Started:
        log = tmp_path / f"entrypoint-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([str(ENTRYPOINT), *args], env=env | extra_env, stdout=sink,
                                       stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
        started.append(Started(process, log))
        return started[-1]

    yield start
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()


def wait_until(run: Started, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        assert run.process.poll() is None, f"exited ({run.process.returncode}) before {what}:\n{run.output()}"
        assert time.monotonic() < deadline, f"no {what} within {STARTUP_SECONDS}s:\n{run.output()}"
        time.sleep(0.2)


def stop(run: Started) -> int:
    """Send SIGTERM to the entrypoint's process, as ``docker stop`` does, and return the exit code."""
    run.process.send_signal(signal.SIGTERM)
    try:
        return run.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_SECONDS}s after SIGTERM:\n{run.output()}")


def get(url: str, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    body = json.dumps(data).encode() if data is not None else None
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - our own local server
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own local server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def healthy(base: str) -> bool:
    try:
        return get(f"{base}/healthz")[0] == 200
    except OSError:
        return False


def test_entrypoint_migrates_serves_healthz_on_postgresql_and_stops_cleanly_on_sigterm(entrypoint):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = entrypoint("web", PRESSFLOW_BIND=f"127.0.0.1:{port}", PRESSFLOW_SEED_DEMO="1")

    wait_until(web, lambda: healthy(base), "healthy /healthz")

    assert get(f"{base}/healthz") == (200, {"status": "ok", "database": "postgresql"})
    status, token = get(f"{base}/api/v1/auth/token", {"username": "yz_clerk", "password": DEMO_PASSWORD})
    assert status == 200, token
    status, processes = get(f"{base}/api/v1/processes", headers={"Authorization": f"Bearer {token['token']}"})
    assert status == 200 and ("press_conference", 1) in [(p["key"], p["version"]) for p in processes]
    assert stop(web) == 0, web.output()
    assert "流程 press_conference v1" in web.output()


def test_entrypoint_worker_starts_the_timer_loop_and_exits_0_on_sigterm(entrypoint):
    worker = entrypoint("worker")

    wait_until(worker, lambda: "定时任务进程已启动" in worker.output(), "worker start message")

    assert stop(worker) == 0, worker.output()
    assert "定时任务进程已停止" in worker.output()


def test_worker_stops_within_docker_stops_grace_period_even_with_a_long_poll_interval(entrypoint):
    worker = entrypoint("worker", PRESSFLOW_WORKER_POLL_SECONDS="60")
    wait_until(worker, lambda: "定时任务进程已启动" in worker.output(), "worker start message")
    time.sleep(0.5)  # let it reach the sleep between passes

    assert stop(worker) == 0, worker.output()


def test_worker_started_after_web_skips_init_when_told_to(entrypoint):
    port = free_port()
    web = entrypoint("web", PRESSFLOW_BIND=f"127.0.0.1:{port}")
    wait_until(web, lambda: healthy(f"http://127.0.0.1:{port}"), "healthy /healthz")

    worker = entrypoint("worker", PRESSFLOW_SKIP_INIT="1")
    wait_until(worker, lambda: "定时任务进程已启动" in worker.output(), "worker start message")

    assert "skipping pressflow init" in worker.output()
    assert "流程 press_conference" not in worker.output()
    assert stop(worker) == 0, worker.output()
    assert stop(web) == 0, web.output()
