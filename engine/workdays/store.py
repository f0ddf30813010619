"""The working-day calendar as stored: chinesecalendar plus the override table loaded from the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import CalendarOverride, CalendarYear
from engine.workdays.calendar import DayOverride, WorkCalendar, parse_override_csv


def load_calendar(session: Session) -> WorkCalendar:
    """Build the calendar from chinesecalendar and every imported override."""
    overrides = session.scalars(select(CalendarOverride)).all()
    years = session.scalars(select(CalendarYear.year)).all()
    return WorkCalendar(
        overrides=[DayOverride(o.day, o.is_workday, o.note) for o in overrides], covered_years=years
    )


def import_overrides(session: Session, text: str, source: str) -> tuple[int, list[int]]:
    """Replace the overrides of every year the file covers; return (days imported, years). Commits."""
    overrides, years = parse_override_csv(text)
    for year in years:
        session.execute(delete(CalendarOverride).where(
            CalendarOverride.day >= dt.date(year, 1, 1), CalendarOverride.day <= dt.date(year, 12, 31)
        ))
        session.merge(CalendarYear(year=year, source=source, imported_at=clock.now()))
    session.add_all(CalendarOverride(day=o.day, is_workday=o.is_workday, note=o.note) for o in overrides)
    session.commit()
    return len(overrides), sorted(years)

