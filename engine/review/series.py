"""定时发布 series (Art. 15(七)): the series row follows the completions of its ``timed_release_series`` instance.

The start form sets the series up; the HQ's control task changes its cadence (from the next slot on) or ends it.
Both run inside the unit of work that completes the task, so the series row and the instance commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms.timed_release as timed_forms
from engine import clock
from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, Instance, TimedReleaseSeries
from engine.org.units import unit_by_code
from engine.workdays.calendar import SHANGHAI
from engine.worker.cadence import Cadence, local_moment
from engine.workflow.uow import audit

SERIES_PROCESS = "timed_release_series"
ROUND_PROCESS = "timed_release_round"
DEFAULT_RELEASE_UNIT = "health"
#: Processes that nobody starts by hand: the worker starts a round at each slot of its series.
WORKER_STARTED = frozenset({ROUND_PROCESS})


def series_of(session: Session, instance_id: int) -> TimedReleaseSeries | None:
    """Return the series row owned by a ``timed_release_series`` instance."""
    return session.scalar(select(TimedReleaseSeries).where(TimedReleaseSeries.instance_id == instance_id))


def cadence_of(series: TimedReleaseSeries) -> Cadence:
    """The series' cadence as arithmetic."""
    return Cadence(series.cadence, tuple(series.times), series.interval_hours, series.anchor_at)


def after_completion(session: Session, instance: Instance, task: HumanTask, values: Mapping[str, Any]) -> None:
    """Set up, change or end the series when its instance's start or control task is completed."""
    if instance.process_key != SERIES_PROCESS:
        return
    if task.form_key == "timed_series_setup":
        _set_up(session, instance, values)
    elif task.form_key == "timed_series_control":
        series = series_of(session, instance.id)
        if series is None:
            raise NotFound("定时发布系列不存在")
        if values.get("action") == "end":
            end_series(session, instance, series, task.completed_by or "system", str(values.get("comment") or ""))
        else:
            _change(session, instance, series, task.completed_by or "system", values)


def end_series(session: Session, instance: Instance, series: TimedReleaseSeries, actor: str, reason: str) -> None:
    """Stop the series: no new rounds; the rounds already started go on."""
    series.ended_at, series.next_slot_at = clock.now(), None
    audit(session, instance, actor, "series_end", comment=reason or "指挥部结束系列发布")


def _set_up(session: Session, instance: Instance, values: Mapping[str, Any]) -> None:
    release_unit = _release_unit(session, str(values.get("release_unit") or DEFAULT_RELEASE_UNIT))
    anchor = local_moment(dt.date.fromisoformat(values["first_day"]), str(values["first_time"]))
    series = TimedReleaseSeries(
        instance_id=instance.id, event=str(values["event"])[:200], hq_unit_id=instance.unit_id,
        release_unit_id=release_unit.id, anchor_at=anchor, ends_at=_end_moment(values),
        rounds_started=0, slots_missed=0, **_cadence_columns(values),
    )
    series.next_slot_at = _within_end(series, cadence_of(series).slot_after(anchor, inclusive=True))
    if series.next_slot_at is None:
        raise InvalidInput("结束时间早于首场发布时间", fields={"end_day": ["结束时间须晚于首场发布时间"]})
    session.add(series)
    audit(session, instance, "system", "series_setup", comment=f"首场定时发布会：{_local(series.next_slot_at)}")


def _change(session: Session, instance: Instance, series: TimedReleaseSeries, actor: str,
            values: Mapping[str, Any]) -> None:
    for name, value in _cadence_columns(values).items():
        setattr(series, name, value)
    # An interval keeps counting from the latest slot, so "every 6 hours" means 6 hours after the last conference.
    series.anchor_at = series.last_slot_at or series.anchor_at
    series.ends_at = _end_moment(values) or series.ends_at
    after = max(clock.now(), series.last_slot_at or series.anchor_at - dt.timedelta(seconds=1))
    series.next_slot_at = _within_end(series, cadence_of(series).slot_after(after))
    if series.next_slot_at is None:
        series.ended_at = clock.now()
    next_text = _local(series.next_slot_at) if series.next_slot_at else "无（已到结束时间）"
    audit(session, instance, actor, "series_change", comment=f"调整发布节奏，下一场：{next_text}",
          data_changed=dict(values))


def _cadence_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    cadence = str(values["cadence"])
    return {"cadence": cadence, "times": timed_forms.cadence_times(values),
            "interval_hours": int(values["interval_hours"]) if cadence == "interval" else None}


def _end_moment(values: Mapping[str, Any]) -> dt.datetime | None:
    if not values.get("end_day"):
        return None
    return local_moment(dt.date.fromisoformat(values["end_day"]), str(values.get("end_time") or "23:59"))


def _within_end(series: TimedReleaseSeries, slot: dt.datetime) -> dt.datetime | None:
    return None if series.ends_at is not None and slot > series.ends_at else slot


def _release_unit(session: Session, code: str) -> Any:
    try:
        return unit_by_code(session, code)
    except NotFound:
        raise InvalidInput("发布文稿单位不存在", fields={"release_unit": [f"单位代码 {code} 不存在"]}) from None


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class SeriesOverview:
    """What a series' page (or one of its rounds' pages) shows about the series."""

    series: TimedReleaseSeries
    series_instance_id: int
    rounds: list[Instance]


def overview(session: Session, instance: Instance, limit: int = 100) -> SeriesOverview | None:
    """The series an instance owns or is a round of, with its latest rounds; None for other instances."""
    owner_id = instance.id if instance.process_key == SERIES_PROCESS else instance.parent_instance_id
    if owner_id is None:
        return None
    found = series_of(session, owner_id)
    if found is None:
        return None
    rounds = list(session.scalars(select(Instance).where(Instance.parent_instance_id == owner_id)
                                  .order_by(Instance.id.desc()).limit(limit)))
    return SeriesOverview(found, owner_id, rounds)
