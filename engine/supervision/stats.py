"""Time spent per step (the heatmap) and the supervisors' charts, over a period of Beijing dates.

Durations come from the task rows: ``completed_at - created_at`` of each completed occurrence of a user task. The
task row opens in the same unit of work, at the same clock reading, as the audit entry that led to it, and closes
with the ``complete`` entry, so these are the durations the audit trail shows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, Instance, Unit
from engine.workdays.calendar import SHANGHAI, WorkCalendar

#: Cycle-time buckets in working days, both ends included; None: no upper end.
CYCLE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 1), (2, 3), (4, 5), (6, 10), (11, 20), (21, None))
#: Closed by the holder's own act (done, or sent back): these count towards the holder's timeliness.
ACTED = ("completed", "returned")


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both Beijing dates and both included."""

    start: dt.date
    end: dt.date

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as a half-open UTC interval [first midnight, the midnight after the last day)."""
        return _midnight(self.start), _midnight(self.end + dt.timedelta(days=1))


@dataclass(frozen=True)
class StepTiming:
    """How long one step took over the period: median and p90, in hours and in working days."""

    bpmn_id: str
    name: str
    count: int
    median_hours: float
    p90_hours: float
    median_workdays: float
    p90_workdays: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default); the median is ``fraction=0.5``."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def step_timings(
    session: Session, period: Period, calendar: WorkCalendar, process_key: str | None = None
) -> list[StepTiming]:
    """Median and p90 time spent per step, over the tasks completed in the period, in process order."""
    start, end = period.bounds()
    query = (select(HumanTask.bpmn_id, HumanTask.name, HumanTask.created_at, HumanTask.completed_at)
             .join(Instance, HumanTask.instance_id == Instance.id)
             .where(HumanTask.closed_reason == "completed", HumanTask.completed_at >= start,
                    HumanTask.completed_at < end)
             .order_by(HumanTask.created_at, HumanTask.bpmn_id))
    if process_key:
        query = query.where(Instance.process_key == process_key)
    hours: dict[str, list[float]] = defaultdict(list)
    workdays: dict[str, list[float]] = defaultdict(list)
    names: dict[str, str] = {}
    for bpmn_id, name, created_at, completed in session.execute(query).tuples():
        completed_at = cast(dt.datetime, completed)  # the query keeps completed rows only
        names.setdefault(bpmn_id, name)
        hours[bpmn_id].append((completed_at - created_at).total_seconds() / 3600)
        workdays[bpmn_id].append(calendar.workdays_between(_day(created_at), _day(completed_at)).days)
    return [StepTiming(bpmn_id, name, len(hours[bpmn_id]), percentile(hours[bpmn_id], 0.5),
                       percentile(hours[bpmn_id], 0.9), percentile(workdays[bpmn_id], 0.5),
                       percentile(workdays[bpmn_id], 0.9)) for bpmn_id, name in names.items()]


def applications_per_week(session: Session, period: Period, process_key: str | None = None) -> list[dict[str, Any]]:
    """Applications started in each week (Monday to Sunday) that touches the period, zero weeks included."""
    start, end = period.bounds()
    query = select(Instance.started_at).where(Instance.started_at >= start, Instance.started_at < end)
    if process_key:
        query = query.where(Instance.process_key == process_key)
    counts = Counter(_monday(_day(started)) for started in session.scalars(query))
    weeks, monday = [], _monday(period.start)
    while monday <= period.end:
        year, week, _ = monday.isocalendar()
        weeks.append({"week": f"{year}-W{week:02d}", "monday": monday.isoformat(), "count": counts[monday]})
        monday += dt.timedelta(days=7)
    return weeks


def cycle_times(
    session: Session, period: Period, calendar: WorkCalendar, process_key: str | None = None
) -> list[dict[str, Any]]:
    """How many applications that ended in the period took how many working days from start to end."""
    start, end = period.bounds()
    query = select(Instance.started_at, Instance.ended_at).where(
        Instance.status == "completed", Instance.ended_at >= start, Instance.ended_at < end)
    if process_key:
        query = query.where(Instance.process_key == process_key)
    counts: Counter[int] = Counter()
    for started_at, ended_at in session.execute(query).tuples():
        days = calendar.workdays_between(_day(started_at), _day(cast(dt.datetime, ended_at))).days
        counts[next(i for i, (low, high) in enumerate(CYCLE_BUCKETS) if high is None or low <= days <= high)] += 1
    return [{"min": low, "max": high, "count": counts[i]} for i, (low, high) in enumerate(CYCLE_BUCKETS)]


def overdue_rate_by_unit(
    session: Session, period: Period, now: dt.datetime, process_key: str | None = None
) -> list[dict[str, Any]]:
    """Per unit holding the step: of the tasks due in the period (and already decided), the share done late."""
    start, end = period.bounds()
    query = (select(Unit.name, HumanTask.due_at, HumanTask.completed_at)
             .join(Unit, HumanTask.unit_id == Unit.id).join(Instance, HumanTask.instance_id == Instance.id)
             .where(HumanTask.due_at >= start, HumanTask.due_at < end, HumanTask.due_at < now,
                    or_(HumanTask.completed_at.is_(None), HumanTask.closed_reason.in_(ACTED))))
    if process_key:
        query = query.where(Instance.process_key == process_key)
    tasks: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for unit, due_at, completed_at in session.execute(query).tuples():
        tasks[unit] += 1
        late[unit] += (completed_at or now) > cast(dt.datetime, due_at)
    return [{"unit": unit, "tasks": tasks[unit], "overdue": late[unit], "rate": late[unit] / tasks[unit]}
            for unit in sorted(tasks)]


def charts(
    session: Session, period: Period, calendar: WorkCalendar, now: dt.datetime, process_key: str | None = None
) -> dict[str, Any]:
    """Everything the charts draw, as plain JSON-ready values."""
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "weeks": applications_per_week(session, period, process_key),
        "cycle_times": cycle_times(session, period, calendar, process_key),
        "overdue_by_unit": overdue_rate_by_unit(session, period, now, process_key),
    }


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(dt.UTC)


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
