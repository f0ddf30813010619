"""定时发布 worker pass: start one release round per due slot of each series; record stale slots as missed.

A round opens ``ROUND_LEAD`` before its conference so the text can be written, approved and reviewed in time. A slot
whose conference time has passed before any worker reached it (the workers were down) is recorded as missed on the
series instance, never fired late: after an outage only the next slot still ahead starts a round.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Instance, TimedReleaseSeries, Unit
from engine.review.applications import create_instance
from engine.review.series import ROUND_PROCESS, cadence_of
from engine.workdays.calendar import SHANGHAI
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import audit, lock_instance, unit_of_work

#: How long before its conference a round opens (its six steps are worked in this window) [assumed].
ROUND_LEAD = dt.timedelta(hours=4)
LIVE = ("running", "waiting")
#: Slots recorded as missed in one pass at most, so a series left for years cannot make one pass endless.
MAX_MISSED_PER_PASS = 500


def due_series_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Return ids of live series whose next round should open by ``now``, most overdue first."""
    return list(session.scalars(
        select(TimedReleaseSeries.id).join(Instance, Instance.id == TimedReleaseSeries.instance_id)
        .where(TimedReleaseSeries.next_slot_at <= now + ROUND_LEAD, TimedReleaseSeries.ended_at.is_(None),
               Instance.status.in_(LIVE))
        .order_by(TimedReleaseSeries.next_slot_at).limit(limit)
    ))


def run_timed_releases(session: Session, runtime: ProcessRuntime, limit: int = 50) -> list[int]:
    """Start the due round of every series (one unit of work per series); return the new rounds' instance ids."""
    now = clock.now()
    ids = due_series_ids(session, now, limit)
    session.rollback()  # end the read transaction so each series gets a fresh one
    started = [_advance_series(session, runtime, series_id, now) for series_id in ids]
    return [instance_id for instance_id in started if instance_id is not None]


def _advance_series(session: Session, runtime: ProcessRuntime, series_id: int, now: dt.datetime) -> int | None:
    with unit_of_work(session):
        series = session.get(TimedReleaseSeries, series_id, populate_existing=True)
        if series is None:
            return None
        owner = lock_instance(session, series.instance_id, skip_locked=True)
        session.refresh(series)
        if owner is None or owner.status not in LIVE or series.ended_at is not None:
            return None  # another worker holds it, or it ended meanwhile
        _record_missed(session, owner, series, now)
        if series.next_slot_at is None or series.next_slot_at - ROUND_LEAD > now:
            return None
        round_instance = _start_round(session, runtime, owner, series)
        _move_on(series, series.next_slot_at)
    return round_instance.id


def _record_missed(session: Session, owner: Instance, series: TimedReleaseSeries, now: dt.datetime) -> None:
    for _ in range(MAX_MISSED_PER_PASS):
        slot = series.next_slot_at
        if slot is None or slot > now:
            return
        series.slots_missed += 1
        audit(session, owner, "system", "slot_missed",
              comment=f"定时发布会 {_local(slot)} 未能按时发起（后台服务中断），已记为错过，不再补发")
        _move_on(series, slot)


def _move_on(series: TimedReleaseSeries, slot: dt.datetime) -> None:
    series.last_slot_at = slot
    following = cadence_of(series).slot_after(slot)
    series.next_slot_at = None if series.ends_at is not None and following > series.ends_at else following
    if series.next_slot_at is None:
        series.ended_at = clock.now()


def _start_round(session: Session, runtime: ProcessRuntime, owner: Instance, series: TimedReleaseSeries) -> Instance:
    version = latest_version(session, ROUND_PROCESS)
    if version is None:
        raise LookupError(f"process {ROUND_PROCESS} is not deployed")
    slot, unit = series.next_slot_at, session.get(Unit, series.release_unit_id)
    if slot is None or unit is None:
        raise LookupError(f"series {series.id} has no next slot or release unit")
    number = series.rounds_started + series.slots_missed + 1
    data = {"title": f"{series.event} 第 {number} 场定时发布会（{_local(slot)}）", "event": series.event,
            "series_instance_id": owner.id, "round_number": number, "conference_at": _local(slot)}
    round_instance = create_instance(session, runtime, version, unit, owner.started_by, data, load_calendar(session),
                                     joint_unit_id=series.hq_unit_id, parent_instance_id=owner.id)
    series.rounds_started += 1
    audit(session, round_instance, "system", "start", comment=f"定时发布系列（申请 #{owner.id}）第 {number} 场")
    audit(session, owner, "system", "round_started",
          comment=f"第 {number} 场（{_local(slot)}）：申请 #{round_instance.id}")
    return round_instance


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
