"""Section 2, the full stack: the happy path through the HTTP API of a gunicorn server, on SQLite and PostgreSQL.

Every user task is completed with ``POST /tasks/<id>/complete``; the next task's id comes from that answer (no
extra request). The conference timer is fired by ``run_due_timers`` in this process with the clock set past the
start, as the worker would (the server runs on the real clock, which will not reach the conference date).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bench.client import HttpError, api_client
from bench.measure import cpu_seconds, repeat
from bench.scenario import PDF, PROCESS_KEY, TIMER, UPLOADS, Step, after_start, conference_day_after, happy_path
from bench.server import serve, sql_engine
from engine import clock
from engine.workdays.calendar import SHANGHAI
from engine.worker.timers import run_due_timers
from engine.workflow.runtime import ProcessRuntime

ACTORS = ("yz_clerk", "yz_leader", "yz_secrecy", "office_reviewer", "onsite", "monitor")


class HttpLifecycle:
    """Drive applications through a running server, one token per demo user."""

    def __init__(self, port: int, db: Engine) -> None:
        self.clients = {name: api_client(port, name) for name in ACTORS}
        self.sessions = sessionmaker(bind=db)
        self.runtime = ProcessRuntime()
        clock.install_spiff_clock()
        self.day = conference_day_after(dt.datetime.now(SHANGHAI).date())
        self.path = happy_path(self.day)

    def start(self) -> dict[str, Any]:
        """Start an application and attach its two documents; return the instance."""
        clerk = self.clients["yz_clerk"]
        instance = clerk.json("POST", "/instances", {"process": PROCESS_KEY})
        for kind, name in UPLOADS:
            clerk.upload(instance["id"], kind, name, PDF)
        return dict(instance)

    def complete(self, instance: dict[str, Any], step: Step) -> dict[str, Any]:
        """Complete the open task ``step`` names, as its actor; return the instance the server answers."""
        task = next((t for t in instance["tasks"] if t["bpmn_id"] == step.bpmn_id), None)
        if task is None:
            raise HttpError(f"no open {step.bpmn_id} on instance {instance['id']}: {instance['tasks']}")
        answer = self.clients[step.actor].json("POST", f"/tasks/{task['id']}/complete", {"data": step.data})
        return dict(answer)

    def fire_timer(self, instance_id: int) -> dict[str, Any]:
        """Run one timer pass with the clock past the conference start, then read the instance back."""
        clock.set_clock(clock.FrozenClock(after_start(self.day) + dt.timedelta(minutes=1)))
        try:
            with self.sessions() as session:
                run_due_timers(session, self.runtime)
        finally:
            clock.set_clock(None)
        return dict(self.clients["onsite"].json("GET", f"/instances/{instance_id}"))

    def lifecycle(self) -> None:
        """One application from start to the end of the happy path."""
        instance = self.start()
        for step in self.path:
            instance = self.fire_timer(instance["id"]) if step.bpmn_id == TIMER else self.complete(instance, step)
        if instance["status"] != "completed":
            raise HttpError(f"instance {instance['id']} ended as {instance['status']}")


def measure_backend(database_url: str, runs: int, log_dir: Path) -> dict[str, Any]:
    """Set up the database, serve it with one worker and time ``runs`` lifecycles."""
    db = sql_engine(database_url)
    try:
        with serve(database_url, workers=1, log_dir=log_dir) as server:
            driver = HttpLifecycle(server.port, db)
            repeat(driver.lifecycle, 2, warmup=0)
            (pid,) = server.worker_pids()
            cpu_before = cpu_seconds(pid)
            timings = repeat(driver.lifecycle, runs, warmup=0)
            server_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / runs
    finally:
        db.dispose()
    return timings.summary() | {"requests_per_lifecycle": 1 + len(UPLOADS) + len(driver.path),
                                "server_cpu_ms": round(server_cpu_ms, 1)}

