"""Crashes: SIGKILL a gunicorn worker or the timer worker at random moments while reviews are completed and timers
fire; afterwards every completion the client saw acknowledged is in the database, no instance is half-written (its
state, task rows and audit chain agree), and after the restart every application runs on to its end."""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from typing import Any

from sqlalchemy import select

from tests.hardening.figures import FIGURES
from tests.hardening.live import SECOND_LEADER, STRESS, Stack, backend

KILLS = 50 if STRESS else 6
APPROVE = {"data": {"decision": "approve", "comment": "同意"}}
SETTLE_SECONDS = 120
#: How long to wait for the stream to flow again after a kill before the next one comes anyway.
RECOVERY_SECONDS = 20


class Traffic:
    """Two leaders working through quick-timer applications in a loop; what the server acknowledged is noted."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.acknowledged: set[tuple[int, str]] = set()
        self.server_errors: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self, user: str) -> None:
        while not self.stop.is_set():
            try:
                self._one_round(user)
            except (OSError, http.client.HTTPException):
                # The worker answering was killed (refused, reset, cut off mid-answer): the outcome is unknown,
                # which is allowed; what was acknowledged must hold.
                time.sleep(0.05)
            except Exception as exc:  # anything else is a finding: noted for the test, and the stream goes on
                self.server_errors.append(f"{type(exc).__name__}: {exc}")

    def _one_round(self, user: str) -> None:
        started = self.stack.call("POST", "/api/v1/instances", {"process": "quick_timer"}, user=user, timeout=20)
        self._note(started.status, "start")
        for task in self._tasks(user):
            answer = self.stack.call("POST", f"/api/v1/tasks/{task['id']}/complete", APPROVE, user=user, timeout=20)
            self._note(answer.status, f"complete {task['bpmn_id']}")
            if answer.status == 200:
                with self.lock:
                    self.acknowledged.add((task["instance_id"], task["bpmn_id"]))

    def _tasks(self, user: str) -> list[dict[str, Any]]:
        listed = self.stack.call("GET", "/api/v1/tasks", user=user, timeout=20)
        self._note(listed.status, "list")
        return random.sample(listed.body, min(3, len(listed.body))) if listed.status == 200 else []

    def _note(self, status: int, what: str) -> None:
        if status >= 500:
            self.server_errors.append(f"{what}: {status}")


def kill_at_random_moments(stack: Stack, traffic: Traffic, kills: int, rng: random.Random) -> dict[str, int]:
    """SIGKILL a web worker (gunicorn starts a new one) or the timer worker (restarted here), ``kills`` times,
    each at a random moment once the stream is flowing again (a completion went through since the last kill)."""
    killed = {"web worker": 0, "timer worker": 0}
    for _ in range(kills):
        flowing, deadline = len(traffic.acknowledged), time.monotonic() + RECOVERY_SECONDS
        while len(traffic.acknowledged) == flowing and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))
        web = stack.web_workers()
        if web and rng.random() < 0.6:
            os.kill(rng.choice(web), signal.SIGKILL)
            killed["web worker"] += 1
            continue
        assert stack.worker is not None
        os.killpg(stack.worker.pid, signal.SIGKILL)
        stack.worker.wait()
        stack.start_worker()
        killed["timer worker"] += 1
    return killed


def test_killed_workers_lose_no_acknowledged_completion_leave_nothing_half_written_and_work_continues(stack):
    seed = int(os.environ.get("PRESSFLOW_CRASH_SEED") or time.time())
    rng = random.Random(seed)
    stack.start_server(workers=2)
    stack.start_worker()
    for user in ("yz_leader", SECOND_LEADER):
        stack.token(user)
    traffic = Traffic(stack)
    clients = [threading.Thread(target=traffic.run, args=(u,)) for u in ("yz_leader", SECOND_LEADER)]
    for client in clients:
        client.start()

    try:
        killed = kill_at_random_moments(stack, traffic, KILLS, rng)
    finally:
        traffic.stop.set()
        for client in clients:
            client.join(60)

    FIGURES.append(f"crashes ({backend(stack)}, seed {seed}): {sum(killed.values())} kills {killed}, "
                   f"{len(traffic.acknowledged)} acknowledged completions")
    assert traffic.server_errors == []
    assert traffic.acknowledged, "no completion went through between the kills"
    completed = {(i, b) for i, b, n in stack.rows(
        "SELECT instance_id, bpmn_id, count(*) FROM audit_entries WHERE action = 'complete' GROUP BY 1, 2")
        if n == 1}
    assert traffic.acknowledged <= completed  # every acknowledged completion is there, and only once
    assert not [row for row in stack.rows("SELECT instance_id, bpmn_id, count(*) FROM audit_entries "
                                          "WHERE action = 'complete' GROUP BY 1, 2") if row[2] > 1]
    assert_nothing_half_written(stack)
    run_everything_to_the_end(stack)


def assert_nothing_half_written(stack: Stack) -> None:
    """Each instance's saved workflow loads and its open task rows are exactly the workflow's ready steps."""
    from engine.models import HumanTask, Instance
    from engine.workdays.store import load_calendar
    from engine.workflow.deploy import model_of
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": stack.database_url})
    runtime = app.extensions["pressflow_runtime"]
    with app.app_context():
        calendar = load_calendar(db.session)
        for instance in db.session.scalars(select(Instance)):
            workflow = runtime.load(model_of(runtime, instance.version), instance.state, calendar)
            ready = sorted(info.task_id for info in runtime.ready_human_tasks(workflow))
            rows = sorted(db.session.scalars(select(HumanTask.spiff_task_id).where(
                HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))))
            assert ready == rows, f"instance {instance.id}: workflow ready {ready}, task rows {rows}"
        db.session.remove()
        db.engine.dispose()
    assert "审计记录校验通过" in stack.pressflow("audit", "verify")


def run_everything_to_the_end(stack: Stack) -> None:
    """After the crashes, the same server and a fresh timer worker finish every application."""
    if stack.worker is None or stack.worker.poll() is not None:
        stack.start_worker()
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        # The traffic's applications; the worker may also open the year's evaluations (December) on its own.
        open_ids = [row[0] for row in stack.rows(
            "SELECT id FROM instances WHERE status <> 'completed' AND process_key = 'quick_timer'")]
        if not open_ids:
            return
        assert time.monotonic() < deadline, f"applications that did not finish after the crashes: {open_ids}"
        for task in stack.call("GET", "/api/v1/tasks", user="yz_leader").body:
            answer = stack.call("POST", f"/api/v1/tasks/{task['id']}/complete", APPROVE, user="yz_leader")
            assert answer.status in (200, 409), answer.body
        time.sleep(0.5)
