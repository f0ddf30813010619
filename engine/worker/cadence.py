"""Cadence arithmetic of a timed-release series, in Beijing time: daily at HH:MM, every N hours, several times a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.workdays.calendar import SHANGHAI


@dataclass(frozen=True)
class Cadence:
    """When a series' conferences are: ``times`` of day (daily/times) or every ``hours`` from ``anchor``."""

    kind: str
    times: tuple[str, ...]
    hours: int | None
    anchor: dt.datetime

    def slot_after(self, moment: dt.datetime, *, inclusive: bool = False) -> dt.datetime:
        """Return the first slot after ``moment`` (or at it, with ``inclusive``), never before the anchor."""
        moment = max(moment, self.anchor) if inclusive else max(moment, self.anchor - dt.timedelta(seconds=1))
        if self.kind == "interval":
            return self._interval_slot(moment, inclusive)
        return self._daily_slot(moment, inclusive)

    def _interval_slot(self, moment: dt.datetime, inclusive: bool) -> dt.datetime:
        step = dt.timedelta(hours=self.hours or 1)
        steps = max(0, -((self.anchor - moment) // step))  # ceiling division
        slot = self.anchor + steps * step
        return slot if slot > moment or (inclusive and slot == moment) else slot + step

    def _daily_slot(self, moment: dt.datetime, inclusive: bool) -> dt.datetime:
        local = moment.astimezone(SHANGHAI)
        for offset in range(2):
            day = local.date() + dt.timedelta(days=offset)
            for text in sorted(self.times):
                hour, minute = (int(part) for part in text.split(":"))
                slot = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
                if slot > local or (inclusive and slot == local):
                    return slot.astimezone(dt.UTC)
        raise ValueError("a daily cadence needs at least one time of day")


def local_moment(day: dt.date, time_text: str) -> dt.datetime:
    """Return the UTC moment of a Beijing date and HH:MM time."""
    hour, minute = (int(part) for part in time_text.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.UTC)
