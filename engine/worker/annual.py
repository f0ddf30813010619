"""Open the year's annual evaluations (年度考评, Art. 13): one instance per district and department and year.

The start is decided by a row of ``annual_evaluations`` with a unique (year, unit) key, never by counting passes:
each unit is started in its own unit of work that inserts the row first, so a second worker racing for the same
unit hits the key (it waits for the first on PostgreSQL, for the write lock on SQLite) and skips it. A worker that
was down on the opening day starts the year once when it comes back, within ``window_days`` of the opening; after
that window a late worker leaves the year alone rather than opening a long-past evaluation.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.models import AnnualEvaluation, Unit
from engine.review.applications import open_instance
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import unit_of_work

PROCESS_KEY = "annual_evaluation"
EVALUATED_KINDS = ("district", "department")
OPENING_TIME = dt.time(9, 0)
SYSTEM = "system"


def opening_moment(calendar: WorkCalendar, year: int, month: int) -> dt.datetime:
    """Return when the year's evaluations open: 09:00 Beijing time on the first working day of ``month`` (UTC)."""
    day = calendar.next_workday_on_or_after(dt.date(year, month, 1)).date
    return dt.datetime.combine(day, OPENING_TIME, tzinfo=SHANGHAI).astimezone(dt.UTC)


def due_year(calendar: WorkCalendar, now: dt.datetime, month: int, window_days: int) -> int | None:
    """Return the year whose evaluations should be open at ``now``, or None outside every opening window."""
    local_year = now.astimezone(SHANGHAI).year
    for year in (local_year, local_year - 1):
        opens = opening_moment(calendar, year, month)
        if opens <= now < opens + dt.timedelta(days=window_days):
            return year
    return None


def start_annual_evaluations(
    session: Session, runtime: ProcessRuntime, now: dt.datetime, month: int = 12, window_days: int = 60
) -> list[int]:
    """Start the due year's evaluation for every unit that has none yet; return the new instance ids. Commits."""
    year = due_year(load_calendar(session), now, month, window_days)
    if year is None or latest_version(session, PROCESS_KEY) is None:
        session.rollback()
        return []
    waiting = list(session.scalars(
        select(Unit.id).where(Unit.kind.in_(EVALUATED_KINDS),
                              Unit.id.not_in(select(AnnualEvaluation.unit_id).where(AnnualEvaluation.year == year)))
        .order_by(Unit.id)))
    session.rollback()  # end the read transaction so each unit gets a fresh one
    started = [_start_one(session, runtime, year, unit_id, now) for unit_id in waiting]
    return [instance_id for instance_id in started if instance_id is not None]


def _start_one(session: Session, runtime: ProcessRuntime, year: int, unit_id: int, now: dt.datetime) -> int | None:
    try:
        with unit_of_work(session):
            row = AnnualEvaluation(year=year, unit_id=unit_id, started_at=now)
            session.add(row)
            session.flush()  # the unique key decides here: a racing worker's row stops this one
            version = latest_version(session, PROCESS_KEY)
            unit = session.get(Unit, unit_id)
            if version is None or unit is None:
                raise LookupError(PROCESS_KEY)
            instance = open_instance(session, runtime, version, unit, SYSTEM, {
                "year": year, "title": f"{year} 年度新闻发布工作考评（{unit.name}）"})
            row.instance_id = instance.id
            return instance.id
    except IntegrityError:
        return None  # another worker started this unit's year first
