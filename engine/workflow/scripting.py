"""Functions that BPMN scripts, gateway conditions and timer expressions may call.

Values cross into task data, so they take and return plain strings and numbers (ISO dates), never objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine import clock
from engine.workdays.calendar import SHANGHAI, WorkCalendar


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def shanghai_today() -> dt.date:
    """Return today's date in Asia/Shanghai by PressFlow's clock."""
    return clock.now().astimezone(SHANGHAI).date()


def conference_start(conference_date: str, start_time: str) -> str:
    """Return the ISO-8601 moment (UTC+8) a conference starts, for the BPMN timer."""
    day = _as_date(conference_date)
    hour, minute = (int(part) for part in str(start_time).split(":")[:2])
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI).isoformat()


def script_functions(calendar: WorkCalendar) -> dict[str, Callable[..., Any]]:
    """Return the helpers bound to one calendar, keyed by the names scripts use."""

    def add_workdays(start: Any, days: int) -> str:
        return calendar.add_workdays(_as_date(start), int(days)).date.isoformat()

    def is_workday(day: Any) -> bool:
        return calendar.is_workday(_as_date(day))

    def workdays_between(start: Any, end: Any) -> int:
        return calendar.workdays_between(_as_date(start), _as_date(end)).days

    def today() -> str:
        return shanghai_today().isoformat()

    return {
        "add_workdays": add_workdays,
        "is_workday": is_workday,
        "workdays_between": workdays_between,
        "today": today,
        "conference_start": conference_start,
    }
