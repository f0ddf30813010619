"""Supervision (督办): how late each open step is in working days, which applications are stuck and why, the
dashboard's counts and breakdowns, and the supervisors' filtered instance list.

Read-only: nothing here commits. Lateness and stuckness are judged against the engine clock and the working-day
calendar, so a deadline or an idle spell never counts a holiday and always counts a make-up working day (调休).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, not_, select
from sqlalchemy.orm import Session, contains_eager, defer, lazyload, selectinload

from engine import clock
from engine.config import Settings
from engine.models import AuditEntry, HumanTask, Instance, RoleGrant, Unit, User
from engine.org.access import ROLE_LABELS
from engine.org.actionability import LIVE_STATUSES, StrandedTask, stranded_tasks
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workdays.store import load_calendar

STATUSES = ("running", "waiting", "suspended", "error", "completed", "terminated")
#: Applications that have not ended.
OPEN_STATUSES = ("running", "waiting", "error", "suspended")
IN_PROGRESS = ("running", "waiting")
#: A suspended application was stopped on purpose, so only these can be stuck.
STUCK_CANDIDATES = ("running", "waiting", "error")
#: Names the list's status filter accepts for a group of statuses.
STATUS_GROUPS = {"in_progress": IN_PROGRESS, "open": OPEN_STATUSES}
SORTS = ("started_at", "updated_at", "title", "unit", "status", "due")
STUCK_KINDS = ("no_progress", "incident", "missed_timer", "vacant_role")
#: A 催办 asks for progress; it is not progress itself, so it does not reset the idle count.
NOT_PROGRESS = ("urge", "escalate")  # reminders are not progress
_CHUNK = 500  # ids per IN (...) list: well below every backend's bound-parameter limit


@dataclass(frozen=True)
class Policy:
    """When an application counts as stuck (see ``Settings``)."""

    stuck_after_workdays: int = 3
    timer_grace_minutes: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """Take the thresholds from the configuration."""
        return cls(settings.stuck_after_workdays, settings.timer_grace_minutes)


@dataclass(frozen=True)
class StuckReason:
    """Why an application is stuck: ``kind`` is one of STUCK_KINDS, ``message`` says it in Chinese."""

    kind: str
    message: str
    bpmn_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenStep:
    """An open task as a supervisor sees it: who holds it and how many working days it is late."""

    task: HumanTask
    holders: tuple[str, ...]
    #: None while the deadline has not passed; 0 on the non-working days right after it.
    overdue_workdays: int | None

    @property
    def overdue(self) -> bool:
        return self.overdue_workdays is not None


@dataclass(frozen=True)
class InstanceRow:
    """One application with its open steps, lateness and stuck reasons."""

    instance: Instance
    steps: tuple[OpenStep, ...]
    stuck: tuple[StuckReason, ...]
    last_progress_at: dt.datetime

    @property
    def due_at(self) -> dt.datetime | None:
        dues = [s.task.due_at for s in self.steps if s.task.due_at is not None]
        return min(dues) if dues else None

    @property
    def overdue(self) -> bool:
        return any(step.overdue for step in self.steps)

    @property
    def overdue_workdays(self) -> int | None:
        late = [s.overdue_workdays for s in self.steps if s.overdue_workdays is not None]
        return max(late) if late else None


@dataclass
class Tally:
    """Dashboard counts: in progress (running + waiting), overdue, stuck, error, suspended."""

    in_progress: int = 0
    overdue: int = 0
    stuck: int = 0
    error: int = 0
    suspended: int = 0

    def add(self, row: InstanceRow, overdue: bool) -> None:
        """Count one application (``overdue`` as judged for this breakdown's row)."""
        self.in_progress += row.instance.status in IN_PROGRESS
        self.overdue += overdue
        self.stuck += bool(row.stuck)
        self.error += row.instance.status == "error"
        self.suspended += row.instance.status == "suspended"


@dataclass
class Breakdown:
    """One row of a dashboard breakdown and the list criteria that show its applications."""

    key: str
    label: str
    criteria: dict[str, str]
    tally: Tally = field(default_factory=Tally)


@dataclass
class Dashboard:
    totals: Tally
    by_stage: list[Breakdown]
    by_unit: list[Breakdown]
    by_process: list[Breakdown]
    stuck: list[InstanceRow]
    #: Open tasks nobody can act on (a supervisor 改派s them from the instance page).
    stranded: list[StrandedTask] = field(default_factory=list)


@dataclass(frozen=True)
class Criteria:
    """Filters, sort and page of the instance list; dates are Beijing dates, both ends included."""

    status: str | None = None
    unit: str | None = None
    process: str | None = None
    step: str | None = None
    overdue: bool | None = None
    stuck: bool | None = None
    started_from: dt.date | None = None
    started_to: dt.date | None = None
    text: str | None = None
    sort: str = "started_at"
    descending: bool = True
    page: int = 1
    #: None: every matching row (exports).
    per_page: int | None = 20


@dataclass(frozen=True)
class Page:
    rows: list[InstanceRow]
    total: int
    page: int
    per_page: int | None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1


def overdue_workdays(due_at: dt.datetime | None, calendar: WorkCalendar, now: dt.datetime) -> int | None:
    """Working days a deadline has been missed by (0 until the next working day starts), None if not missed."""
    if due_at is None or now <= due_at:
        return None
    return calendar.workdays_between(_local_day(due_at), _local_day(now)).days


class Supervision:
    """Judge applications at one moment, with the calendar, staff and thresholds of that moment."""

    def __init__(self, session: Session, calendar: WorkCalendar, now: dt.datetime, policy: Policy) -> None:
        self.session, self.calendar, self.now, self.policy = session, calendar, now, policy
        self._staff = _Staff.load(session)
        # Hundreds of open applications share a few dozen days: count each span of days once per judgement.
        self._spans: dict[tuple[dt.date, dt.date], int] = {}

    @classmethod
    def load(cls, session: Session, policy: Policy) -> Supervision:
        """Judge now, with the stored calendar."""
        return cls(session, load_calendar(session), clock.now(), policy)

    # --- one application -----------------------------------------------------------------------

    def rows(self, instances: Sequence[Instance]) -> list[InstanceRow]:
        """Assess each application: open steps, holders, lateness, stuck reasons."""
        ids = [i.id for i in instances]
        tasks, progress = self._open_tasks(ids), self._last_progress(ids)
        return [self._row(i, tasks.get(i.id, []), progress.get(i.id) or i.started_at) for i in instances]

    def idle_workdays(self, since: dt.datetime) -> int:
        """Whole working days that have passed since ``since`` (today, still under way, is not counted)."""
        yesterday = _local_day(self.now) - dt.timedelta(days=1)
        return self._workdays(_local_day(since), yesterday)

    def _workdays(self, start: dt.date, end: dt.date) -> int:
        if (start, end) not in self._spans:
            self._spans[(start, end)] = self.calendar.workdays_between(start, end).days
        return self._spans[(start, end)]

    def _row(self, instance: Instance, tasks: list[HumanTask], last_progress: dt.datetime) -> InstanceRow:
        steps, vacancies = [], []
        for task in tasks:
            holders, vacancy = self._staff.holders(task)
            late = None if task.due_at is None or self.now <= task.due_at else self._workdays(
                _local_day(task.due_at), _local_day(self.now))
            steps.append(OpenStep(task, holders, late))
            vacancies += [vacancy] if vacancy else []
        reasons = [*self._state_reasons(instance, last_progress), *vacancies]
        if instance.status not in STUCK_CANDIDATES:
            reasons = []
        return InstanceRow(instance, tuple(steps), tuple(reasons), last_progress)

    def _state_reasons(self, instance: Instance, last_progress: dt.datetime) -> Iterator[StuckReason]:
        if instance.status == "error":
            incident = instance.incident or {}
            message = str(incident.get("message") or "")
            yield StuckReason("incident", f"流程异常：{message}" if message else "流程异常", incident.get("bpmn_id"),
                              {"message": message, "error_type": incident.get("error_type")})
        timer = instance.next_timer_at
        grace = dt.timedelta(minutes=self.policy.timer_grace_minutes)
        if timer is not None and instance.status in IN_PROGRESS and timer < self.now - grace:
            late = int((self.now - timer).total_seconds() // 60)
            message = f"定时器应于 {_shanghai(timer)} 触发，已超时 {late} 分钟仍未触发（定时任务进程可能未运行）"
            yield StuckReason("missed_timer", message, None, {"due": timer, "minutes": late})
        idle = self.idle_workdays(last_progress)
        if instance.status == "running" and idle >= self.policy.stuck_after_workdays:
            yield StuckReason("no_progress", f"已连续 {idle} 个工作日无进展（最后进展：{_shanghai(last_progress)}）",
                              None, {"workdays": idle, "since": last_progress})

    def _open_tasks(self, ids: list[int]) -> dict[int, list[HumanTask]]:
        found: dict[int, list[HumanTask]] = defaultdict(list)
        for chunk in _chunks(ids):
            # The instances are the caller's, already in the session: joining them again would decode their data anew.
            for task in self.session.scalars(select(HumanTask).where(
                    HumanTask.instance_id.in_(chunk), HumanTask.completed_at.is_(None))
                    .order_by(HumanTask.created_at, HumanTask.bpmn_id).options(lazyload(HumanTask.instance))):
                found[task.instance_id].append(task)
        return found

    def _last_progress(self, ids: list[int]) -> dict[int, dt.datetime]:
        found: dict[int, dt.datetime] = {}
        for chunk in _chunks(ids):
            found.update(self.session.execute(
                select(AuditEntry.instance_id, func.max(AuditEntry.at)).where(
                    AuditEntry.instance_id.in_(chunk), AuditEntry.action.not_in(NOT_PROGRESS))
                .group_by(AuditEntry.instance_id)).tuples().all())
        # func.max loses the column type on some backends: bring every value back to aware UTC.
        return {k: _as_utc(v) for k, v in found.items() if v is not None}

    # --- the dashboard -------------------------------------------------------------------------

    def dashboard(self, stuck_limit: int = 20) -> Dashboard:
        """Count open applications by state, by stage, by unit and by process; list the stuck ones."""
        rows = self.rows(list(self.session.scalars(_base_query().where(Instance.status.in_(OPEN_STATUSES))
                                                    .options(selectinload(Instance.version))
                                                    .order_by(Instance.started_at, Instance.id))))
        totals = Tally()
        stages: dict[str, Breakdown] = {}
        units: dict[str, Breakdown] = {}
        processes: dict[str, Breakdown] = {}
        for row in rows:
            instance = row.instance
            totals.add(row, row.overdue)
            _breakdown(units, instance.unit.code, instance.unit.name, {"unit": instance.unit.code}).tally.add(
                row, row.overdue)
            name = instance.version.name if instance.version else instance.process_key
            _breakdown(processes, instance.process_key, name, {"process": instance.process_key}).tally.add(
                row, row.overdue)
            for step in row.steps:
                _breakdown(stages, step.task.bpmn_id, step.task.name, {"step": step.task.bpmn_id}).tally.add(
                    row, step.overdue)
            if not row.steps:  # waiting for a timer, or stopped by an incident or a supervisor
                key = f"status:{instance.status}"
                _breakdown(stages, key, "", {"status": instance.status}).tally.add(row, False)
        return Dashboard(
            totals, sorted(stages.values(), key=_busiest), sorted(units.values(), key=lambda b: b.label),
            sorted(processes.values(), key=lambda b: b.key), [r for r in rows if r.stuck][:stuck_limit],
            stranded_tasks(self.session, _local_day(self.now), [
                (step.task, row.instance.title) for row in rows if row.instance.status in LIVE_STATUSES
                for step in row.steps]),
        )

    # --- the instance list ---------------------------------------------------------------------

    def instances(self, criteria: Criteria) -> Page:
        """Filter, sort and page the applications; the stuck filter is judged here, after the SQL filters."""
        query = self._filtered(criteria).order_by(*_ordering(criteria))
        per_page = criteria.per_page
        if criteria.stuck is None:
            ids = self._filtered(criteria, select(Instance.id).join(Unit, Instance.unit_id == Unit.id))
            total = self.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
            page = _clamp(criteria.page, total, per_page)
            if per_page:
                query = query.offset((page - 1) * per_page).limit(per_page)
            return Page(self.rows(list(self.session.scalars(query))), total, page, per_page)
        rows = [r for r in self.rows(list(self.session.scalars(query))) if bool(r.stuck) == criteria.stuck]
        page = _clamp(criteria.page, len(rows), per_page)
        start = (page - 1) * per_page if per_page else 0
        return Page(rows[start:start + per_page] if per_page else rows, len(rows), page, per_page)

    def _filtered(self, criteria: Criteria, query: Select[Any] | None = None) -> Select[Any]:
        query = _base_query() if query is None else query
        for condition in self._conditions(criteria):
            query = query.where(condition)
        return query

    def _conditions(self, c: Criteria) -> Iterator[ColumnElement[bool]]:
        if c.status:
            yield Instance.status.in_(STATUS_GROUPS.get(c.status, (c.status,)))
        if c.unit:
            yield Unit.code == c.unit
        if c.process:
            yield Instance.process_key == c.process
        if c.step:
            yield _has_open_task(HumanTask.bpmn_id == c.step)
        if c.overdue is not None:
            late = Instance.status.in_(OPEN_STATUSES) & _has_open_task(HumanTask.due_at < self.now)
            yield late if c.overdue else not_(late)
        if c.stuck:
            yield Instance.status.in_(STUCK_CANDIDATES)
        if c.started_from:
            yield Instance.started_at >= _day_start(c.started_from)
        if c.started_to:
            yield Instance.started_at < _day_start(c.started_to + dt.timedelta(days=1))
        if c.text:
            yield Instance.title.icontains(c.text, autoescape=True)


class _Staff:
    """Who may take which task: active users by (role, unit)."""

    def __init__(self, posts: dict[tuple[str, int], dict[str, str]]) -> None:
        self.posts = posts

    @classmethod
    def load(cls, session: Session) -> _Staff:
        posts: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for username, name, role, unit_id in session.execute(
                select(User.username, User.display_name, RoleGrant.role, RoleGrant.unit_id)
                .join(RoleGrant, RoleGrant.user_id == User.id).where(User.active.is_(True))
                .order_by(User.username)):
            posts[(role, unit_id)][username] = name
        return cls(posts)

    def holders(self, task: HumanTask) -> tuple[tuple[str, ...], StuckReason | None]:
        """Name who holds the task (its assignee, else everyone eligible); say why nobody can, if nobody can."""
        eligible: dict[str, str] = {}
        for role in task.candidate_roles:
            eligible.update(self.posts.get((role, task.unit_id), {}))
        step = {"step": task.name, "unit": task.unit.name, "roles": list(task.candidate_roles)}
        if task.assignee and task.assignee not in eligible:
            return (task.assignee,), StuckReason(
                "vacant_role", f"「{task.name}」的办理人 {task.assignee} 已停用或不再担任该岗位，其他人无法认领",
                task.bpmn_id, step | {"assignee": task.assignee})
        if task.assignee:
            return (eligible[task.assignee],), None
        if not eligible:
            roles = "或".join(ROLE_LABELS.get(r, r) for r in task.candidate_roles) or "办理人"
            return (), StuckReason("vacant_role", f"「{task.name}」无人可办：{task.unit.name}没有在岗的{roles}",
                                   task.bpmn_id, step)
        return tuple(eligible.values()), None


def _base_query() -> Select[tuple[Instance]]:
    return (select(Instance).join(Unit, Instance.unit_id == Unit.id)
            .options(contains_eager(Instance.unit), defer(Instance.state), defer(Instance.data)))


def _has_open_task(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(HumanTask.instance_id == Instance.id, HumanTask.completed_at.is_(None), condition)


def _ordering(c: Criteria) -> list[Any]:
    due = (select(func.min(HumanTask.due_at)).where(HumanTask.instance_id == Instance.id,
                                                    HumanTask.completed_at.is_(None))
           .correlate(Instance).scalar_subquery())
    columns: dict[str, Any] = {"started_at": Instance.started_at, "updated_at": Instance.updated_at,
                               "title": Instance.title, "unit": Unit.name, "status": Instance.status, "due": due}
    column = columns[c.sort] if c.sort in columns else Instance.started_at
    first = [due.is_(None)] if c.sort == "due" else []  # applications without a deadline go last either way
    if c.descending:
        return [*first, column.desc(), Instance.id.desc()]
    return [*first, column.asc(), Instance.id.asc()]


def _breakdown(table: dict[str, Breakdown], key: str, label: str, criteria: dict[str, str]) -> Breakdown:
    if key not in table:
        table[key] = Breakdown(key, label, criteria)
    return table[key]


def _busiest(b: Breakdown) -> tuple[int, str]:
    t = b.tally
    return -(t.in_progress + t.error + t.suspended), b.key


def _clamp(page: int, total: int, per_page: int | None) -> int:
    pages = max(1, math.ceil(total / per_page)) if per_page else 1
    return min(max(page, 1), pages)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(dt.UTC)


def _shanghai(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _as_utc(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands back the stored text when the type is lost
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
