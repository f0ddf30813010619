"""Working-day calendar: China's statutory holidays and make-up working days (调休), for SLA deadlines.

Resolution order for one day: an imported override (a line of a State Council notice) wins; else
chinesecalendar's answer for the years it knows (2004–2026 in 1.11.0); else the Mon–Fri rule, which is
trusted for a year whose notice was imported (the notice lists every exception) and flagged
``provisional`` otherwise, so a deadline computed on a guess is never presented as certain.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

ONE_DAY = timedelta(days=1)
END_OF_DAY = time(23, 59, 59)
CSV_HEADER = ("date", "type", "note")
# English words are what the importer documents; the Chinese ones are what a clerk types from the notice.
OVERRIDE_TYPES = {"holiday": False, "放假": False, "workday": True, "上班": True, "调休上班": True}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

DayLike = date | datetime | str


@dataclass(frozen=True)
class DayOverride:
    """One line of a State Council notice: this day is (or is not) a working day."""

    day: date
    is_workday: bool
    note: str = ""


@dataclass(frozen=True)
class DayInfo:
    """What the calendar knows about one day, and where that knowledge came from."""

    day: date
    is_workday: bool
    provisional: bool
    source: str  # 'chinesecalendar' | 'override' | 'weekday'


@dataclass(frozen=True)
class WorkdayResult:
    """A computed working day, flagged provisional when any day on the way was a guess."""

    date: date
    provisional: bool


@dataclass(frozen=True)
class WorkdayCount:
    """A count of working days, flagged provisional when any counted day was a guess."""

    days: int
    provisional: bool


class CalendarImportError(ValueError):
    """A holiday-notice CSV is malformed; the message is Chinese and names the line."""


class WorkCalendar:
    """Answer working-day questions from chinesecalendar plus imported notice overrides."""

    def __init__(self, overrides: Iterable[DayOverride] = (), covered_years: Iterable[int] = ()) -> None:
        self._overrides = _index_overrides(overrides)
        self._covered_years = frozenset(covered_years)
        # Per-instance because overrides differ between instances; days are few, so no eviction.
        self._cache: dict[date, DayInfo] = {}

    def day_info(self, day: DayLike) -> DayInfo:
        """Return whether ``day`` is a working day, how sure that is, and why."""
        key = as_date(day)
        info = self._cache.get(key)
        if info is None:
            info = self._cache[key] = self._resolve(key)
        return info

    def is_workday(self, day: DayLike) -> bool:
        """Return True if ``day`` is a working day."""
        return self.day_info(day).is_workday

    def add_workdays(self, start: DayLike, days: int) -> WorkdayResult:
        """Return the ``days``-th working day strictly after ``start`` (``start`` itself when 0)."""
        day = as_date(start)
        remaining = _check_count(days)
        info = self.day_info(day)
        provisional = info.provisional
        while remaining:
            day += ONE_DAY
            info = self.day_info(day)
            provisional = provisional or info.provisional
            if info.is_workday:
                remaining -= 1
        return WorkdayResult(day, provisional)

    def workdays_between(self, start: DayLike, end: DayLike) -> WorkdayCount:
        """Count working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
        day, last = as_date(start), as_date(end)
        count, provisional = 0, False
        while day < last:
            day += ONE_DAY
            info = self.day_info(day)
            if info.is_workday:
                count += 1
            provisional = provisional or info.provisional
        return WorkdayCount(count, provisional)

    def next_workday_on_or_after(self, day: DayLike) -> WorkdayResult:
        """Return ``day`` if it is a working day, else the first working day after it."""
        current = as_date(day)
        info = self.day_info(current)
        provisional = info.provisional
        while not info.is_workday:
            current += ONE_DAY
            info = self.day_info(current)
            provisional = provisional or info.provisional
        return WorkdayResult(current, provisional)

    def due_at(self, created_at: datetime, workdays: int) -> tuple[datetime, bool]:
        """Return the UTC end (23:59:59 Shanghai) of the deadline working day and its provisional flag."""
        if created_at.tzinfo is None:
            raise ValueError("due_at needs an aware datetime (UTC), got a naive one")
        # The SLA counts the office's calendar days, not UTC ones: 01:00 in Chongqing is already "today".
        local_day = created_at.astimezone(SHANGHAI).date()
        if _check_count(workdays) == 0:
            result = self.next_workday_on_or_after(local_day)
        else:
            result = self.add_workdays(local_day, workdays)
        deadline = datetime.combine(result.date, END_OF_DAY, tzinfo=SHANGHAI)
        return deadline.astimezone(UTC), result.provisional

    def deadline_after_pause(self, due_at: datetime, paused_at: datetime, resumed_at: datetime
                             ) -> tuple[datetime, bool]:
        """Move a deadline on so that a pause (挂起) does not use up its working days (暂停计时).

        Counted in whole Beijing-time working days: what was left after the day of the pause is granted again from
        the day of the resumption. A deadline already passed when the pause began stays as it was.
        """
        if due_at <= paused_at:
            return due_at, False
        left = self.workdays_between(paused_at.astimezone(SHANGHAI), due_at.astimezone(SHANGHAI))
        moved, provisional = self.due_at(resumed_at, left.days)
        if moved <= due_at:
            return due_at, False
        return moved, provisional or left.provisional

    def _resolve(self, day: date) -> DayInfo:
        override = self._overrides.get(day)
        if override is not None:
            return DayInfo(day, override.is_workday, provisional=False, source="override")
        known = _library_is_workday(day)
        if known is not None:
            return DayInfo(day, known, provisional=False, source="chinesecalendar")
        guessed = day.year not in self._covered_years
        return DayInfo(day, day.weekday() < 5, provisional=guessed, source="weekday")


def as_date(value: DayLike) -> date:
    """Return ``value`` as a date; accept a date, a datetime (its date) or an ISO 'YYYY-MM-DD' string."""
    # datetime is a subclass of date, so it must be tested first or it would leak through unchanged.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
        raise ValueError(f"expected an ISO date 'YYYY-MM-DD', got {value!r}")
    raise TypeError(f"expected a date, datetime or 'YYYY-MM-DD' string, got {type(value).__name__}")


def parse_override_csv(text: str) -> tuple[list[DayOverride], set[int]]:
    """Parse a ``date,type,note`` notice CSV into overrides and the set of years it covers."""
    overrides: list[DayOverride] = []
    first_line: dict[date, int] = {}
    header_seen = False
    for number, fields in _csv_rows(text):
        if not header_seen:
            _check_header(number, fields)
            header_seen = True
            continue
        override = _parse_row(number, fields)
        if override.day in first_line:
            raise CalendarImportError(
                f'第 {number} 行：日期 "{override.day}" 与第 {first_line[override.day]} 行重复'
            )
        first_line[override.day] = number
        overrides.append(override)
    if not header_seen:
        raise CalendarImportError("第 1 行：文件为空，缺少表头 date,type,note")
    return overrides, {override.day.year for override in overrides}


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    # Line by line (not one csv.reader over the text) so errors name the line the clerk sees in the editor.
    # Excel saves UTF-8 CSV with a BOM, which would otherwise glue itself to the header's first word.
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise CalendarImportError(f"第 {number} 行：CSV 格式错误（{exc}）") from exc
        yield number, [field.strip() for field in fields]


def _check_header(number: int, fields: list[str]) -> None:
    if tuple(field.lower() for field in fields) != CSV_HEADER:
        raise CalendarImportError(f'第 {number} 行：表头应为 "date,type,note"，实际为 "{",".join(fields)}"')


def _parse_row(number: int, fields: list[str]) -> DayOverride:
    # The note column may be left off entirely; more columns mean an unquoted comma in the note.
    if len(fields) not in (2, 3):
        raise CalendarImportError(f"第 {number} 行：应有 3 列（date,type,note），实际 {len(fields)} 列")
    raw_day, raw_type = fields[0], fields[1]
    note = fields[2] if len(fields) == 3 else ""
    return DayOverride(_parse_day(number, raw_day), _parse_type(number, raw_type), note)


def _parse_day(number: int, raw: str) -> date:
    problem = CalendarImportError(f'第 {number} 行：日期 "{raw}" 无效（应为 YYYY-MM-DD 格式的真实日期）')
    # The regex keeps out the other ISO spellings fromisoformat accepts (20270101, 2027-W01-1).
    if not _ISO_DAY.fullmatch(raw):
        raise problem
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise problem from exc


def _parse_type(number: int, raw: str) -> bool:
    is_workday = OVERRIDE_TYPES.get(raw.lower())
    if is_workday is None:
        raise CalendarImportError(
            f'第 {number} 行：类型 "{raw}" 无法识别（应为 holiday/放假 或 workday/上班）'
        )
    return is_workday


def _check_count(days: int) -> int:
    # bool is an int subclass; True working days is a caller bug, not 1.
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"working-day count must be an int, got {type(days).__name__}")
    if days < 0:
        raise ValueError(f"working-day count must be >= 0, got {days}")
    return days


def _index_overrides(overrides: Iterable[DayOverride]) -> dict[date, DayOverride]:
    index: dict[date, DayOverride] = {}
    for override in overrides:
        previous = index.get(override.day)
        if previous is not None and previous.is_workday != override.is_workday:
            raise ValueError(f"conflicting overrides for {override.day}")
        index[override.day] = override
    return index


@functools.lru_cache(maxsize=16384)
def _library_is_workday(day: date) -> bool | None:
    # Shared across instances: the library's tables never change at run time, and its out-of-range
    # NotImplementedError is slow enough to be worth remembering as None.
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None
