"""Fire due BPMN timers: each instance in its own unit of work, safe with many workers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Instance
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import audit, lock_instance, record_end, record_incident, save_workflow, unit_of_work

ADVANCEABLE = ("waiting", "running")


def due_instance_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Return ids of instances whose next timer is due, oldest first."""
    # Strictly after, as SpiffWorkflow fires a timer: one due at exactly ``now`` would be "advanced" without firing,
    # stay due, and keep ``pressflow run-timers --now`` looping on it forever.
    return list(session.scalars(
        select(Instance.id).where(Instance.next_timer_at < now, Instance.status.in_(ADVANCEABLE))
        .order_by(Instance.next_timer_at).limit(limit)
    ))


def run_due_timers(session: Session, runtime: ProcessRuntime, limit: int = 50) -> list[int]:
    """Advance every instance with a due timer; return the ids actually advanced."""
    now = clock.now()
    ids = due_instance_ids(session, now, limit)
    session.rollback()  # end the read transaction so each instance gets a fresh one
    return [instance_id for instance_id in ids if _advance_one(session, runtime, instance_id, now)]


def _advance_one(session: Session, runtime: ProcessRuntime, instance_id: int, now: dt.datetime) -> bool:
    with unit_of_work(session):
        instance = lock_instance(session, instance_id, skip_locked=True)
        if instance is None or instance.next_timer_at is None or instance.next_timer_at >= now:
            return False  # another worker holds it, or already moved it on
        if instance.status not in ADVANCEABLE:
            return False
        calendar = load_calendar(session)
        workflow = load_workflow(runtime, instance, calendar)
        # The trail reads in cause order: the timer first, then whatever incident it led to.
        audit(session, instance, "system", "timer", data_changed={"due_at": instance.next_timer_at.isoformat()})
        try:
            runtime.advance(workflow)
        except Exception as exc:  # noqa: BLE001 - any script error becomes an incident, never a dead worker
            record_incident(session, instance, exc, "system")
        save_workflow(session, runtime, instance, workflow, calendar)
        record_end(session, instance, "system")
    return True
