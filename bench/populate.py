"""Bulk-load a bench database with years of history: instances with their human-task and audit rows.

The rows are generated, not run through the engine one by one: the happy path is run once through SpiffWorkflow
and the engine's converter, and the state, open tasks and data after each step become the templates of the
instances standing at that step. Most instances are finished; ``running_share`` stand at one of the steps before
the conference timer, started in the last three weeks. PostgreSQL is loaded with COPY, SQLite with executemany;
``python -m bench.populate URL N`` loads a database made by ``pressflow init --demo``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.engine import Connection, Engine

from bench.floor import RawEngine, complete_ready
from bench.scenario import BEFORE_TIMER, PROCESS_KEY, SUBMITTED_AT, USER_STEPS, spiff_values
from bench.server import sql_engine
from engine import clock
from engine.models import AuditEntry, HumanTask, Instance, ProcessVersion, Unit
from engine.org.access import OFFICE_ROLES
from engine.workflow.runtime import HumanTaskInfo

#: Open applications among all: 300 of 100,000 (a city's year is a few hundred; the rest is history).
RUNNING_SHARE = 0.003
ACTORS = {s.bpmn_id: s.actor for s in USER_STEPS}
APPLICANT_UNITS = ("yuzhong", "jiangbei")
STEP_MINUTES = 90


@dataclass(frozen=True)
class Stage:
    """What an instance looks like after ``done`` steps of the happy path."""

    done: int
    state: str
    data: dict[str, Any]
    ready: list[HumanTaskInfo]


def stages(frozen: clock.FrozenClock) -> list[Stage]:
    """Run the happy path once; keep the stored state, data and ready tasks after each user step and at the end."""
    raw = RawEngine(frozen)
    workflow = raw.round_trip(raw.start())
    found = [_stage(raw, workflow, 0)]
    for done, step in enumerate(BEFORE_TIMER, start=1):
        complete_ready(workflow, step.bpmn_id, spiff_values(step))
        workflow.do_engine_steps()
        workflow = raw.round_trip(workflow)
        found.append(_stage(raw, workflow, done))
    final = raw.lifecycle(raw.round_trip)
    found.append(_stage(raw, final, len(USER_STEPS)))
    return found


def _stage(raw: RawEngine, workflow: Any, done: int) -> Stage:
    data = dict(workflow.last_task.data) if workflow.last_task is not None else {}
    data = json.loads(json.dumps(data, default=str))
    return Stage(done, raw.runtime.dump(workflow), data, raw.runtime.ready_human_tasks(workflow))


class Loader:
    """Generate the rows of ``count`` instances and write them in batches."""

    def __init__(self, db: Engine, stages_: list[Stage], running_share: float, seed: int = 11,
                 waiting_timer: dt.datetime | None = None) -> None:
        self.db = db
        self.stages = stages_
        self.running_share = running_share
        #: When given, every instance waits at the conference timer, due at this moment.
        self.waiting_timer = waiting_timer
        self.random = random.Random(seed)  # the same database every run
        self.now = dt.datetime.now(dt.UTC)
        with db.connect() as conn:
            self.units = {u.code: u.id for u in conn.execute(select(Unit.code, Unit.id))}
            self.version_id = conn.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == PROCESS_KEY)
                                          .order_by(ProcessVersion.version.desc()))
            self.next_id = (conn.scalar(select(Instance.id).order_by(Instance.id.desc())) or 0) + 1
            self.next_audit = (conn.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0) + 1

    def load(self, count: int, batch: int = 5000) -> None:
        """Write ``count`` instances with their rows, ``batch`` instances per transaction."""
        for first in range(0, count, batch):
            rows: dict[str, list[tuple[Any, ...]]] = {"instances": [], "human_tasks": [], "audit_entries": []}
            for _ in range(min(batch, count - first)):
                self._instance(rows)
            with self.db.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # lz4 compresses the 15 KiB workflow states several times faster than the default pglz.
                    conn.execute(text("SET LOCAL default_toast_compression = 'lz4'"))
                for table in (Instance.__table__, HumanTask.__table__, AuditEntry.__table__):
                    write(conn, table, rows[table.name])  # type: ignore[arg-type]
        with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                for table, column in (("instances", "id"), ("audit_entries", "id")):
                    statement = (f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                                 f"(SELECT max({column}) FROM {table}))")
                    conn.execute(text(statement))
                conn.execute(text("ANALYZE"))

    def _instance(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        running = self.waiting_timer is not None or self.random.random() < self.running_share
        stage = self.stages[self.random.randrange(len(self.stages) - 1)] if running else self.stages[-1]
        if self.waiting_timer is not None:
            stage = self.stages[len(BEFORE_TIMER)]
        unit_code = self.random.choice(APPLICANT_UNITS)
        # Finished applications spread over five years; open ones were started in the last three weeks, as in use.
        days = self.random.randrange(21) if running else 30 + self.random.randrange(5 * 365)
        started = self.now - dt.timedelta(days=days, minutes=self.random.randrange(1440))
        instance_id, self.next_id = self.next_id, self.next_id + 1
        clerk = f"{unit_code[:2]}_clerk" if unit_code == "yuzhong" else "jb_clerk"
        moments = [started + dt.timedelta(minutes=STEP_MINUTES * i) for i in range(stage.done + 2)]
        ended = None if running else moments[-1]
        rows["instances"].append((
            instance_id, PROCESS_KEY, self.version_id, self._status(running),
            str(stage.data.get("title", ""))[:200], self.units[unit_code], clerk, started, moments[-1], ended,
            None if running else "completed", self.waiting_timer, stage.state, 1, None,
            json.dumps(stage.data, ensure_ascii=False),
        ))
        self._audit(rows, instance_id, clerk, "start", moments[0], None)
        for index, step in enumerate(USER_STEPS[:stage.done]):
            self._task(rows, instance_id, unit_code, step.bpmn_id, moments[index], moments[index + 1], clerk)
        if running:
            for info in stage.ready:
                self._open_task(rows, instance_id, unit_code, info, moments[-1], clerk)
        else:
            self._audit(rows, instance_id, "system", "end", moments[-1], None)

    def _status(self, running: bool) -> str:
        if self.waiting_timer is not None:
            return "waiting"
        return "running" if running else "completed"

    def _task(self, rows: dict[str, list[tuple[Any, ...]]], instance_id: int, unit_code: str, bpmn_id: str,
              created: dt.datetime, completed: dt.datetime, clerk: str) -> None:
        actor = ACTORS[bpmn_id].replace("yz_", f"{unit_code[:2]}_") if unit_code == "jiangbei" else ACTORS[bpmn_id]
        actor = actor.replace("ji_", "jb_")
        task_id = str(uuid.UUID(int=self.random.getrandbits(128)))
        rows["human_tasks"].append(_task_row(task_id, instance_id, bpmn_id, self._unit_of(bpmn_id, unit_code),
                                             None, created, completed, actor))
        self._audit(rows, instance_id, actor, "complete", completed, task_id, bpmn_id)

    def _open_task(self, rows: dict[str, list[tuple[Any, ...]]], instance_id: int, unit_code: str,
                   info: HumanTaskInfo, created: dt.datetime, clerk: str) -> None:
        office = bool(info.candidate_roles) and all(r in OFFICE_ROLES for r in info.candidate_roles)
        unit_id = self.units["office"] if office else self.units[unit_code]
        assignee = clerk if "applicant" in info.candidate_roles else None
        rows["human_tasks"].append((
            str(uuid.UUID(int=self.random.getrandbits(128))), info.task_id, instance_id, info.name, info.bpmn_id,
            info.form_key, json.dumps(info.candidate_roles), unit_id, assignee, created,
            created + dt.timedelta(days=3 + self.random.randrange(10)), False, None, None, None, None,
            None, None, None, None, None, None, None,
        ))

    def _unit_of(self, bpmn_id: str, unit_code: str) -> int:
        office_steps = {"office_topic_review", "host_speaker_selection", "venue_preparation", "pre_announcement",
                        "conference_record", "monitoring_report"}
        return self.units["office"] if bpmn_id in office_steps else self.units[unit_code]

    def _audit(self, rows: dict[str, list[tuple[Any, ...]]], instance_id: int, actor: str, action: str,
               at: dt.datetime, task_id: str | None, bpmn_id: str | None = None) -> None:
        audit_id, self.next_audit = self.next_audit, self.next_audit + 1
        rows["audit_entries"].append((audit_id, instance_id, at, actor, action, task_id, bpmn_id, bpmn_id,
                                      "同意" if action == "complete" else None, None, None))


def _task_row(task_id: str, instance_id: int, bpmn_id: str, unit_id: int, assignee: str | None,
              created: dt.datetime, completed: dt.datetime, actor: str) -> tuple[Any, ...]:
    return (task_id, str(uuid.uuid4()), instance_id, bpmn_id, bpmn_id, bpmn_id, "[]", unit_id, assignee or actor,
            created, created + dt.timedelta(days=5), False, completed, actor, None, "completed", created, actor,
            None, None, None, None, None)


COLUMNS = {
    "instances": ("id", "process_key", "version_id", "status", "title", "unit_id", "started_by", "started_at",
                  "updated_at", "ended_at", "outcome", "next_timer_at", "state", "lock_version", "incident", "data"),
    "human_tasks": ("id", "spiff_task_id", "instance_id", "name", "bpmn_id", "form_key", "candidate_roles",
                    "unit_id", "assignee", "created_at", "due_at", "due_provisional", "completed_at", "completed_by",
                    "decision", "closed_reason", "opened_at", "opened_by", "returned_by", "returned_comment",
                    "on_behalf_of", "overdue_notified_at", "escalated_at"),
    "audit_entries": ("id", "instance_id", "at", "actor", "action", "task_id", "task_name", "bpmn_id", "comment",
                      "data_changed", "on_behalf_of"),
}


def write(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert generated rows: COPY on PostgreSQL, executemany elsewhere."""
    columns = COLUMNS[table.name]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.connection.cursor().executemany(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - our own column names
        [tuple(_sqlite_value(v) for v in row) for row in rows])


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


def populate(database_url: str, count: int, running_share: float = RUNNING_SHARE,
             waiting_timer: dt.datetime | None = None) -> float:
    """Load ``count`` instances into a database made by ``pressflow init --demo``; return the seconds it took.

    With ``waiting_timer`` every instance waits at the conference timer, due then.
    """
    started = time.perf_counter()
    frozen = clock.FrozenClock(SUBMITTED_AT)
    clock.set_clock(frozen)
    clock.install_spiff_clock()
    try:
        templates = stages(frozen)
    finally:
        clock.set_clock(None)
    db = sql_engine(database_url)
    try:
        Loader(db, templates, running_share, waiting_timer=waiting_timer).load(count)
    finally:
        db.dispose()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bulk-load instances with their task and audit rows.")
    parser.add_argument("database_url")
    parser.add_argument("count", type=int)
    parser.add_argument("--running-share", type=float, default=RUNNING_SHARE)
    args = parser.parse_args(argv)
    print(f"loaded {args.count} instances in {populate(args.database_url, args.count, args.running_share):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
