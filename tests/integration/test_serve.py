"""``pressflow serve --with-worker`` (what ``make run`` runs): the web server with one timer worker that lives and dies
with it, so a demo's conference timer fires and late tasks are chased without a second terminal."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.integration.test_entrypoint import free_port, healthy

STARTUP_SECONDS = 60
STOP_SECONDS = 20


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``serve(*args)`` runs ``pressflow init`` then ``pressflow serve *args`` on a SQLite file of its own."""
    scripts = sysconfig.get_path("scripts")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSFLOW_")} | {
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
        "PRESSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'pressflow.db'}",
        "PRESSFLOW_SECRET_KEY": "serve-test-secret-key-not-for-production",
        "PRESSFLOW_DEMO_PASSWORD": DEMO_PASSWORD,
        "PRESSFLOW_WEB_WORKERS": "1",
    }
    subprocess.run([f"{scripts}/pressflow", "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        with (tmp_path / "serve.log").open("wb") as log:
            started.append(subprocess.Popen([f"{scripts}/pressflow", "serve", *args], env=env, cwd=tmp_path,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def heartbeats(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM worker_heartbeats")]


def wait_for(ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        assert process.poll() is None, f"exited before {what}:\n{log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"no {what} within {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}"
        time.sleep(0.2)


def test_serve_with_worker_runs_a_live_worker_and_stops_it_with_the_server(serve, tmp_path):
    port = free_port()
    server = serve("--port", str(port), "--with-worker")
    log, database = tmp_path / "serve.log", tmp_path / "pressflow.db"

    wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), "healthy /healthz", server, log)
    wait_for(lambda: bool(heartbeats(database)), "worker heartbeat", server, log)
    server.send_signal(signal.SIGTERM)

    assert server.wait(timeout=STOP_SECONDS) == 0, log.read_text(errors="replace")
    assert "定时任务进程已停止" in log.read_text(errors="replace")
    assert heartbeats(database) == []  # retired cleanly, not left to go stale


def test_serve_without_the_flag_runs_no_worker(serve, tmp_path):
    port = free_port()
    server = serve("--port", str(port))
    log = tmp_path / "serve.log"

    wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), "healthy /healthz", server, log)
    time.sleep(1.5)  # longer than a worker's first pass would take

    assert heartbeats(tmp_path / "pressflow.db") == []
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=STOP_SECONDS) == 0
