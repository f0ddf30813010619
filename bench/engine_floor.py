"""The engine floor: what one press-conference application costs, from bare SpiffWorkflow up to ``engine/``.

One run prints, side by side, the happy path of ``processes/press_conference.bpmn`` (10 user tasks and the
conference timer) measured four ways:

(a)  raw SpiffWorkflow in memory: the spec parsed once outside the timing; create a workflow, complete every user
     task with the data its gateways read, fire the timer, finish;
(b1) the same, serialize + deserialize around every step with SpiffWorkflow's ``BpmnWorkflowSerializer`` as it
     comes (JSON, every instance carrying its whole spec): the naive way;
(b2) the same with the engine's instance-only converter and orjson (``ProcessRuntime.dump`` / ``load``);
(c)  the lifecycle through ``engine/`` on SQLite (a temp file, WAL, the pragmas of ``webapp/__init__.py``):
     ``start_application``, two attachments, ``complete_task`` per step, ``run_due_timers`` with the clock past the
     start. Each action gets its own session and loads its user, as a request would; there is no HTTP, Flask,
     token check or JSON rendering in the figure;
(d)  the same on PostgreSQL when reachable, in a throwaway database ``pf_bench`` (or, without the right to create
     databases, a throwaway schema) on the server of ``BENCH_DATABASE_URL``, ``TEST_DATABASE_URL`` or
     ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.

Figures are medians of ``--runs`` timed lifecycles after ``--warmup`` untimed ones: "ms/inst" wall-clock time (with
the database server's share), "min" the fastest run, "cpu ms" this process's CPU time (steadier on a busy machine),
"x (a)" the wall-clock ratio to (a). "peak KiB" is the Python heap high-water mark (tracemalloc) during one extra,
untimed lifecycle; "state KiB" the stored workflow JSON at the end. The header gives the load average: other work
on the machine inflates wall-clock figures.
The bench needs no Flask: it builds its own SQLAlchemy engine and sessions, and creates the schema from the models
(the Alembic migrations run through Flask-Migrate, whose ``env.py`` needs a Flask app).

    make bench
    .venv/bin/python bench/engine_floor.py --runs 50 --no-pg
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, event, make_url, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.models import Base, HumanTask, Instance, User
from engine.org.units import seed_demo
from engine.review.applications import complete_task, start_application
from engine.review.attachments import Upload, add_attachment
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.worker.timers import run_due_timers
from engine.workflow.deploy import deploy_directory
from engine.workflow.runtime import ParsedModel, ProcessRuntime
from engine.workflow.scripting import script_functions

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
PROCESS_KEY = "press_conference"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "pf_bench"
DEMO_PASSWORD = "pressflow-demo"  # noqa: S105 - the documented demo password
MAX_UPLOAD = 20 * 1024 * 1024

#: Monday 2026-03-02 09:00 in Chongqing; the conference is ten working days later and more.
SUBMITTED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
AFTER_START = dt.datetime(2026, 3, 20, 10, 1, tzinfo=SHANGHAI)
START_DATA = {"unit": "yuzhong", "unit_name": "渝中区人民政府", "unit_kind": "district"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TIMER = "wait_conference_start"


@dataclass(frozen=True)
class Step:
    """One step of the happy path: a user task done by a demo user with form data, or the timer."""

    bpmn_id: str
    actor: str = ""
    data: dict[str, Any] | None = None


def _review(decision: str, comment: str = "") -> dict[str, Any]:
    return {"decision": decision, "comment": comment}


HAPPY_PATH = (
    Step("topic_application", "yz_clerk", {
        "title": "2026年渝中区优化营商环境新闻发布会", "name_holder": "municipal_government",
        "kind": "press_conference", "conference_date": "2026-03-20", "start_time": "10:00",
        "summary": "介绍渝中区优化营商环境的主要举措和成效。", "venue": "press_center", "venue_other_reason": "",
        "live_stream": "video",
    }),
    Step("leader_review", "yz_leader", _review("approve", "同意")),
    Step("secrecy_review", "yz_secrecy", _review("pass")),
    Step("office_topic_review", "office_reviewer", _review("accept", "同意选题")),
    Step("content_approval_district", "yz_leader", _review("approve", "内容审定同意")),
    Step("host_speaker_selection", "office_reviewer", {
        "speaker_name": "张副市长", "speaker_role": "vice_mayor", "host_name": "何平",
        "host_role": "municipal_spokesperson", "guests": [{"name": "王局长", "title": "区发展改革委主任"}],
    }),
    Step("venue_preparation", "onsite", {
        "venue_confirmed": True, "venue_name": "市新闻发布中心", "live_stream_ready": True, "notes": "",
    }),
    Step("pre_announcement", "office_reviewer", {
        "published": True, "announcement_url": "https://www.cq.gov.cn/cqfb/notice", "published_on": "2026-03-18",
    }),
    Step(TIMER),
    Step("conference_record", "onsite", {
        "conference_status": "held", "questions_count": 6, "questions_summary": "记者就营商环境举措提问 6 个",
    }),
    Step("monitoring_report", "monitor", {
        "coverage_summary": "40 家媒体报道", "public_reaction": "反响积极", "major_issue": False,
        "report": "无负面舆情",
    }),
)


@dataclass
class Result:
    """The figures of one variant, or why it was skipped."""

    label: str
    times_ms: list[float]
    cpu_ms: list[float] = field(default_factory=list)
    peak_kib: float | None = None
    state_kib: float | None = None
    skipped: str = ""


# --- (a), (b): SpiffWorkflow without the engine ------------------------------------------------------


def parse_raw() -> tuple[ParsedModel, float]:
    """Parse the BPMN and DMN with the spiff parser (XSD-validated); return the model and the ms it took."""
    started = time.perf_counter()
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(PROCESSES / "press_conference.bpmn")])
    parser.add_dmn_files([str(PROCESSES / "host_speaker.dmn")])
    spec = parser.get_spec(PROCESS_KEY)
    model = ParsedModel(PROCESS_KEY, spec.description or PROCESS_KEY, spec, parser.get_subprocess_specs(PROCESS_KEY))
    return model, (time.perf_counter() - started) * 1000


def spiff_values(step: Step) -> dict[str, Any]:
    """Name review fields after their step, as the engine does, so the gateways read ``<step>_decision``."""
    values = step.data or {}
    return {f"{step.bpmn_id}_{k}": v for k, v in values.items()} if "decision" in values else dict(values)


Store = Callable[[BpmnWorkflow], BpmnWorkflow]


def in_memory(workflow: BpmnWorkflow) -> BpmnWorkflow:
    return workflow


def full_json_store(script_engine: PythonScriptEngine) -> Store:
    """Round-trip through SpiffWorkflow's stock serializer: JSON with the whole spec in every instance."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

    def store(workflow: BpmnWorkflow) -> BpmnWorkflow:
        restored = serializer.deserialize_json(serializer.serialize_json(workflow))
        restored.script_engine = script_engine
        return restored

    return store


def instance_only_store(runtime: ProcessRuntime, model: ParsedModel, calendar: WorkCalendar) -> Store:
    """Round-trip through the engine's converter: instance state only (orjson), spec from the cached model."""
    return lambda workflow: runtime.load(model, runtime.dump(workflow), calendar)


def raw_lifecycle(model: ParsedModel, script_engine: PythonScriptEngine, store: Store,
                  frozen: clock.FrozenClock) -> BpmnWorkflow:
    """Run the happy path on a bare BpmnWorkflow, passing it through ``store`` after every step."""
    frozen.set(SUBMITTED_AT)
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=script_engine)
    workflow.data.update(START_DATA)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(START_DATA)
    workflow.do_engine_steps()
    workflow = store(workflow)
    for step in HAPPY_PATH:
        if step.bpmn_id == TIMER:
            frozen.set(AFTER_START)
            workflow.refresh_timers()
        else:
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                        if t.task_spec.bpmn_id == step.bpmn_id)
            task.set_data(**spiff_values(step))
            task.run()
        workflow.do_engine_steps()
        workflow = store(workflow)
    if not workflow.is_completed():
        raise RuntimeError("the raw lifecycle did not reach its end")
    return workflow


# --- (c), (d): through engine/ on a database ------------------------------------------------------------


def tune_sqlite(engine: Engine) -> None:
    """Apply the connection settings of ``webapp/__init__.py`` (WAL, busy timeout, one writer per unit of work)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class EngineBench:
    """A database with the schema, the processes deployed and the demo organisation, driven through ``engine/``."""

    def __init__(self, db: Engine, frozen: clock.FrozenClock) -> None:
        self.db = db
        self.frozen = frozen
        self.runtime = ProcessRuntime()
        self.sessions = sessionmaker(bind=db)
        Base.metadata.create_all(db)
        with self.sessions() as session:
            deploy_directory(session, self.runtime, PROCESSES, "bench")
            seed_demo(session, DEMO_PASSWORD)

    @contextlib.contextmanager
    def request(self, username: str) -> Iterator[tuple[Session, User]]:
        """One action as the web layer runs it: a fresh session and the acting user loaded in it."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise RuntimeError(f"demo user {username} is missing")
            yield session, user

    def lifecycle(self) -> str:
        """Start, attach, complete every step and fire the timer; return the final stored state."""
        self.frozen.set(SUBMITTED_AT)
        with self.request("yz_clerk") as (session, clerk):
            instance_id = start_application(session, self.runtime, clerk, PROCESS_KEY).id
        for kind, name in (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf")):
            with self.request("yz_clerk") as (session, clerk):
                add_attachment(session, clerk, instance_id, Upload(name, kind, PDF), MAX_UPLOAD)
        for step in HAPPY_PATH:
            if step.bpmn_id == TIMER:
                self._fire_timer(instance_id)
            else:
                self._complete(instance_id, step)
        with self.sessions() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.status != "completed":
                raise RuntimeError(f"instance {instance_id} did not complete: {instance and instance.status}")
            return instance.state

    def _complete(self, instance_id: int, step: Step) -> None:
        with self.request(step.actor) as (session, user):
            task_id = session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == step.bpmn_id,
                HumanTask.completed_at.is_(None),
            ))
            if task_id is None:
                raise RuntimeError(f"no open task {step.bpmn_id} on instance {instance_id}")
            complete_task(session, self.runtime, user, task_id, dict(step.data or {}))

    def _fire_timer(self, instance_id: int) -> None:
        self.frozen.set(AFTER_START)
        with self.sessions() as session:
            advanced = run_due_timers(session, self.runtime)
        if advanced != [instance_id]:
            raise RuntimeError(f"the timer pass advanced {advanced}, expected [{instance_id}]")

    def close(self) -> None:
        self.db.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[Engine]:
    """A SQLite file in a temporary folder, tuned as the web app tunes it."""
    with tempfile.TemporaryDirectory(prefix="pf-bench-") as folder:
        db = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        tune_sqlite(db)
        try:
            yield db
        finally:
            db.dispose()


class Unreachable(Exception):
    """PostgreSQL cannot be used for the bench; the message says why."""


def pg_url() -> str:
    for name in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return DEFAULT_PG_URL


@contextlib.contextmanager
def postgresql_database(url: str) -> Iterator[Engine]:
    """A throwaway database (or schema, without CREATEDB) on the server of ``url``; dropped afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        raise Unreachable(f"cannot connect to {make_url(url).render_as_string()}: {_first_line(exc)}") from exc
    try:
        with _own_database(admin, url) as db:
            yield db
    finally:
        admin.dispose()


@contextlib.contextmanager
def _own_database(admin: Engine, url: str) -> Iterator[Engine]:
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": BENCH_DATABASE})
            if exists:  # left by an interrupted run: it is ours, start clean
                conn.execute(text(f'DROP DATABASE "{BENCH_DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    except ProgrammingError:
        with _own_schema(admin, url) as db:
            yield db
        return
    db = create_engine(make_url(url).set(database=BENCH_DATABASE))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))


@contextlib.contextmanager
def _own_schema(admin: Engine, url: str) -> Iterator[Engine]:
    schema = f"pf_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


# --- measuring ----------------------------------------------------------------------------------------------


def measure(label: str, lifecycle: Callable[[], Any], runs: int, warmup: int,
            state_of: Callable[[Any], str] | None = None) -> Result:
    """Time ``runs`` lifecycles after ``warmup`` ones, then trace the heap of one more."""
    for _ in range(warmup):
        lifecycle()
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        lifecycle()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    tracemalloc.start()
    try:
        final = lifecycle()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    state_kib = len(state_of(final).encode("utf-8")) / 1024 if state_of else None
    return Result(label, times, cpu, peak / 1024, state_kib)


def raw_results(runs: int, warmup: int, frozen: clock.FrozenClock) -> tuple[list[Result], float]:
    model, parse_ms = parse_raw()
    calendar = WorkCalendar()
    script_engine = PythonScriptEngine(environment=TaskDataEnvironment(script_functions(calendar)))
    runtime = ProcessRuntime()
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    variants = (
        ("(a)  raw SpiffWorkflow, in memory", in_memory, None),
        ("(b1) + stock serializer round-trip, with spec", full_json_store(script_engine), stock.serialize_json),
        ("(b2) + engine converter round-trip, no spec", instance_only_store(runtime, model, calendar), runtime.dump),
    )
    results = [
        measure(label, lambda s=store: raw_lifecycle(model, script_engine, s, frozen), runs, warmup, state_of)
        for label, store, state_of in variants
    ]
    return results, parse_ms


def engine_result(label: str, database: contextlib.AbstractContextManager[Engine], runs: int, warmup: int,
                  frozen: clock.FrozenClock) -> tuple[Result, str]:
    """Measure the engine lifecycle on a database; also say where the data went."""
    with database as db:
        bench = EngineBench(db, frozen)
        try:
            return measure(label, bench.lifecycle, runs, warmup, state_of=lambda state: state), _where(db)
        finally:
            bench.close()


def _where(db: Engine) -> str:
    if db.dialect.name != "postgresql":
        return db.url.render_as_string()
    with db.connect() as conn:
        database, schema, server = conn.execute(
            text("SELECT current_database(), current_schema(), current_setting('server_version')")
        ).one()
    url = db.url
    return f"PostgreSQL {server} at {url.host}:{url.port or 5432}, database {database}, schema {schema}"


def pg_result(runs: int, warmup: int, frozen: clock.FrozenClock, enabled: bool) -> tuple[Result, str]:
    label = "(d)  engine/ on PostgreSQL"
    if not enabled:
        return Result(label, [], skipped="skipped (--no-pg)"), ""
    url = pg_url()
    try:
        return engine_result(label, postgresql_database(url), runs, warmup, frozen)
    except Unreachable as exc:
        return Result(label, [], skipped=f"skipped: {exc}"), ""


# --- report ------------------------------------------------------------------------------------------------


def report(results: list[Result], runs: int, warmup: int, parse_ms: float, pg_where: str) -> str:
    steps = sum(1 for s in HAPPY_PATH if s.bpmn_id != TIMER)
    lines = [
        f"PressFlow engine floor: {PROCESS_KEY} happy path, {steps} user tasks + 1 timer "
        f"({len(HAPPY_PATH) + 1} state round-trips per instance; (c)/(d) add 2 uploads), "
        f"median of {runs} runs after {warmup} warm-up",
        f"Python {platform.python_version()} on {platform.machine()}, SpiffWorkflow {package_version('SpiffWorkflow')}"
        f", SQLAlchemy {package_version('SQLAlchemy')}" + (f"; {pg_where}" if pg_where else ""),
        f"parse BPMN + DMN with XSD validation, once, untimed: {parse_ms:.1f} ms; "
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs",
        "",
        f"{'variant':<48} {'ms/inst':>8} {'min':>7} {'cpu ms':>7} {'x (a)':>7} {'peak KiB':>9} {'state KiB':>9}",
    ]
    floor = statistics.median(results[0].times_ms)
    for r in results:
        if r.skipped:
            lines.append(f"{r.label:<48} {r.skipped}")
            continue
        median = statistics.median(r.times_ms)
        lines.append(
            f"{r.label:<48} {median:8.2f} {min(r.times_ms):7.2f} {statistics.median(r.cpu_ms):7.2f} "
            f"{median / floor:7.1f} "
            f"{_kib(r.peak_kib):>9} {_kib(r.state_kib):>9}"
        )
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    lines += ["", f"process peak RSS over the whole run: {maxrss_kib / 1024:.0f} MiB"]
    return "\n".join(lines)


def _kib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20, help="timed lifecycles per variant (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed lifecycles first (default 2)")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    frozen = clock.FrozenClock(SUBMITTED_AT)
    clock.set_clock(frozen)
    clock.install_spiff_clock()
    results, parse_ms = raw_results(args.runs, args.warmup, frozen)
    sqlite, _ = engine_result("(c)  engine/ on SQLite (temp file, WAL)", sqlite_database(), args.runs,
                              args.warmup, frozen)
    results.append(sqlite)
    pg, pg_where = pg_result(args.runs, args.warmup, frozen, enabled=not args.no_pg)
    results.append(pg)
    print(report(results, args.runs, args.warmup, parse_ms, pg_where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
