"""The engine in this process on a bench database: sessions as a request has them, and the demo users."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.scenario import (
    CONFERENCE_DAY,
    HAPPY_PATH,
    MAX_UPLOAD,
    PDF,
    PROCESS_KEY,
    SUBMITTED_AT,
    TIMER,
    UPLOADS,
    Step,
    after_start,
)
from engine import clock
from engine.models import HumanTask, Instance, User
from engine.review.applications import complete_task, start_application
from engine.review.attachments import Upload, add_attachment
from engine.worker.timers import run_due_timers
from engine.workflow.runtime import ProcessRuntime


class EngineBench:
    """Drive ``engine/`` directly (no HTTP) on a database made by ``pressflow init --demo``."""

    def __init__(self, db: Engine, frozen: clock.FrozenClock) -> None:
        self.db = db
        self.frozen = frozen
        self.runtime = ProcessRuntime()
        self.sessions = sessionmaker(bind=db)

    @contextlib.contextmanager
    def request(self, username: str) -> Iterator[tuple[Session, User]]:
        """One action as the web layer runs it: a fresh session and the acting user loaded in it."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise RuntimeError(f"demo user {username} is missing")
            yield session, user

    def start(self) -> int:
        """Start an application as the clerk and attach its documents; return its id."""
        self.frozen.set(SUBMITTED_AT)
        with self.request("yz_clerk") as (session, clerk):
            instance_id = start_application(session, self.runtime, clerk, PROCESS_KEY).id
        for kind, name in UPLOADS:
            with self.request("yz_clerk") as (session, clerk):
                add_attachment(session, clerk, instance_id, Upload(name, kind, PDF), MAX_UPLOAD)
        return instance_id

    def complete(self, instance_id: int, step: Step, data: dict[str, Any] | None = None) -> None:
        """Complete the open task of ``step`` as its actor."""
        with self.request(step.actor) as (session, user):
            task_id = session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == step.bpmn_id,
                HumanTask.completed_at.is_(None)))
            if task_id is None:
                raise RuntimeError(f"no open task {step.bpmn_id} on instance {instance_id}")
            complete_task(session, self.runtime, user, task_id, dict(data if data is not None else step.data or {}))

    def fire_timer(self, instance_id: int) -> None:
        """Run a timer pass with the clock past the conference start."""
        self.frozen.set(after_start(CONFERENCE_DAY) + dt.timedelta(minutes=1))
        with self.sessions() as session:
            advanced = run_due_timers(session, self.runtime)
        if instance_id not in advanced:
            raise RuntimeError(f"the timer pass advanced {advanced}, not {instance_id}")

    def lifecycle(self) -> None:
        """Start, attach, complete every step and fire the timer."""
        instance_id = self.start()
        for step in HAPPY_PATH:
            if step.bpmn_id == TIMER:
                self.fire_timer(instance_id)
            else:
                self.complete(instance_id, step)
        with self.sessions() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.status != "completed":
                raise RuntimeError(f"instance {instance_id} did not complete")
