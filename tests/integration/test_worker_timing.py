"""Real ``pressflow worker`` processes, on the real clock: a timer fires within 2 s of its due time, once.

The process is ``tests/data/quick_timer.bpmn``: a leader's review, then a timer of three seconds, then a follow-up
step. The test completes the review through the API, reads when the timer falls due, and polls the database until
the worker has written the "timer" row of the trail; the time on that row is when the worker fired it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEntry, Instance, WorkerHeartbeat
from engine.workflow.deploy import deploy

QUICK_TIMER = Path(__file__).resolve().parent.parent / "data" / "quick_timer.bpmn"
POLL_SECONDS = "0.5"
THREE_SECONDS = dt.timedelta(seconds=3)  # the model's timer
LATENESS_ALLOWED = dt.timedelta(seconds=2)
WAIT_SECONDS = 30
STOP_SECONDS = 10  # docker stop's grace period before SIGKILL


@dataclass
class Worker:
    """One ``pressflow worker`` process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """Send SIGTERM, as ``docker stop`` does, and return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker still running {STOP_SECONDS}s after SIGTERM:\n{self.output()}")


@pytest.fixture
def real_clock(app: Any) -> None:
    """The workers run on the system clock, so the application under test does too."""
    clock.set_clock(None)


@pytest.fixture
def quick_timer(app: Any) -> str:
    from webapp.extensions import db

    with app.app_context():
        deployment = deploy(db.session, app.extensions["pressflow_runtime"], QUICK_TIMER.read_text(encoding="utf-8"),
                            [], "tests", note="worker timing")
        key = deployment.version.process_key
        db.session.remove()
    return key


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    """A connection of the test's own to the database the workers use, to watch what they write."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    """``start_worker()`` starts ``pressflow worker`` against the test database, polling every 0.5 s."""
    started: list[Worker] = []
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSFLOW_")}
    env |= {
        "PRESSFLOW_DATABASE_URL": database_url,
        "PRESSFLOW_SECRET_KEY": "worker-timing-test-secret-key-not-for-production",
        "PRESSFLOW_WORKER_POLL_SECONDS": POLL_SECONDS,
    }
    pressflow = str(Path(sysconfig.get_path("scripts")) / "pressflow")

    def start() -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([pressflow, "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                       cwd=tmp_path)
        started.append(Worker(process, log))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


def wait_for(what: str, found: Callable[[], Any], workers: list[Worker]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (value := found()):
        for worker in workers:
            assert worker.process.poll() is None, f"worker exited before {what}:\n{worker.output()}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_SECONDS}s:\n" + "\n".join(
            w.output() for w in workers)
        time.sleep(0.05)
    return value


def heartbeats(database: Engine) -> list[WorkerHeartbeat]:
    with Session(database) as session:
        return list(session.scalars(select(WorkerHeartbeat)))


def timer_rows(database: Engine, instance_id: int) -> list[Any]:
    with database.connect() as conn:
        return list(conn.execute(select(AuditEntry.at).where(
            AuditEntry.instance_id == instance_id, AuditEntry.action == "timer")))


def arm_timer(login: Any, process: str, database: Engine) -> tuple[int, dt.datetime]:
    """Start the quick-timer process and complete its review now; return the instance and when its timer is due."""
    leader = login("yz_leader")
    response = leader.post("/instances", json={"process": process})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    before = clock.now()
    answered = leader.complete(instance_id, "budget_review", {"decision": "approve", "comment": "同意"})
    after = clock.now()
    assert answered["status"] == "waiting", answered
    with database.connect() as conn:
        due = conn.execute(select(Instance.next_timer_at).where(Instance.id == instance_id)).scalar_one()
    assert before + THREE_SECONDS <= due <= after + THREE_SECONDS  # armed by the review, in real time
    return instance_id, due


def test_the_worker_fires_a_timer_within_two_seconds_of_its_due_time_and_stops_cleanly_on_sigterm(
    app, real_clock, quick_timer, login, database, start_worker
):
    worker = start_worker()
    (beating,) = wait_for("heartbeat", lambda: heartbeats(database), [worker])
    assert beating.id.endswith(f":{worker.process.pid}")

    instance_id, due = arm_timer(login, quick_timer, database)
    (fired,) = wait_for("timer row", lambda: timer_rows(database, instance_id), [worker])

    assert dt.timedelta(0) <= fired.at - due < LATENESS_ALLOWED, f"fired {fired.at - due} after its due time"
    advanced = login("yz_leader").instance(instance_id)
    assert advanced["status"] == "running"
    assert [t["bpmn_id"] for t in advanced["tasks"]] == ["follow_up"]
    (still_beating,) = heartbeats(database)
    assert still_beating.passes > beating.passes and still_beating.last_error is None

    assert worker.stop() == 0, worker.output()
    assert "定时任务进程已停止" in worker.output()
    assert heartbeats(database) == []


def test_two_workers_fire_a_timer_once_and_each_shows_its_own_heartbeat(
    app, real_clock, quick_timer, login, database, start_worker
):
    workers = [start_worker(), start_worker()]
    wait_for("two heartbeats", lambda: len(heartbeats(database)) == 2, workers)
    assert sorted(int(h.id.rsplit(":", 1)[1]) for h in heartbeats(database)) == sorted(
        w.process.pid for w in workers)

    instance_id, due = arm_timer(login, quick_timer, database)
    (fired,) = wait_for("timer row", lambda: timer_rows(database, instance_id), workers)
    time.sleep(2 * float(POLL_SECONDS) + 0.5)  # several more passes of both workers

    assert len(timer_rows(database, instance_id)) == 1
    assert fired.at - due < LATENESS_ALLOWED, f"fired {fired.at - due} after its due time"
    assert [t["bpmn_id"] for t in login("yz_leader").instance(instance_id)["tasks"]] == ["follow_up"]
    assert [w.stop() for w in workers] == [0, 0], [w.output() for w in workers]
    assert heartbeats(database) == []
