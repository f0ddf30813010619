"""Section 6, timer latency: from a timer's due moment to the instance moving on, with ``pressflow worker`` running.

``tests/data/quick_timer.bpmn`` (a review, then a three-second timer, then a follow-up step) is deployed; the
worker runs on the real clock with the product's default poll. Instances are armed a fraction of a second apart
through the engine; this process polls the database and notes when each instance's follow-up task appears.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.engine_bench import EngineBench
from bench.measure import percentiles
from bench.scenario import ROOT, Step
from bench.server import BIN, pressflow_env, sql_engine
from engine import clock
from engine.models import HumanTask, Instance
from engine.review.applications import start_application
from engine.workflow.deploy import deploy

QUICK_TIMER = ROOT / "tests" / "data" / "quick_timer.bpmn"
REVIEW = {"decision": "approve", "comment": "同意"}
WAIT_SECONDS = 60


def _arm(bench: EngineBench, process_key: str) -> tuple[int, dt.datetime]:
    with bench.request("yz_leader") as (session, leader):
        instance_id = start_application(session, bench.runtime, leader, process_key).id
    bench.complete(instance_id, Step("budget_review", "yz_leader"), REVIEW)
    with bench.sessions() as session:
        due = session.scalar(select(Instance.next_timer_at).where(Instance.id == instance_id))
    assert due is not None
    return instance_id, due


def _moved_on(bench: EngineBench, pending: dict[int, dt.datetime], lateness: list[float]) -> None:
    with bench.sessions() as session:
        moved = set(session.scalars(select(HumanTask.instance_id).where(
            HumanTask.instance_id.in_(list(pending)), HumanTask.bpmn_id == "follow_up")))
    seen = dt.datetime.now(dt.UTC)
    for instance_id in moved:
        lateness.append((seen - pending.pop(instance_id)).total_seconds() * 1000)


def run(database_url: str, timers: int, log_dir: Path) -> dict[str, Any]:
    """Arm ``timers`` quick timers with a worker running; return how late the instances moved on."""
    db = sql_engine(database_url)
    clock.set_clock(None)
    clock.install_spiff_clock()
    bench = EngineBench(db, clock.FrozenClock(dt.datetime.now(dt.UTC)))
    with bench.sessions() as session:
        process_key = deploy(session, bench.runtime, QUICK_TIMER.read_text(encoding="utf-8"), [], "bench",
                             note="timer latency").version.process_key
    log = log_dir / "worker-timers.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen([str(BIN / "pressflow"), "worker"], env=pressflow_env(database_url),  # noqa: S603
                                  cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        pending: dict[int, dt.datetime] = {}
        lateness: list[float] = []
        for _ in range(timers):
            instance_id, due = _arm(bench, process_key)
            pending[instance_id] = due
            time.sleep(0.25)
        deadline = time.monotonic() + WAIT_SECONDS
        while pending and time.monotonic() < deadline and worker.poll() is None:
            _moved_on(bench, pending, lateness)
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        db.dispose()
    figures = percentiles(lateness)
    return {"timers": timers, "moved_on": len(lateness), "max_ms": round(max(lateness, default=0.0), 1),
            **figures}
