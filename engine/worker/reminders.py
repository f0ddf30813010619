"""Chasing late tasks (督办): remind the holder when a task falls due, escalate a working day later; each once.

A step whose deadline is in hours (``dueInHours``, emergency releases) is escalated once one more such span has
passed after its deadline (a 1-hour step: an hour after it fell due), on the clock, not the working calendar.

Both steps are driven by columns of the task row (``overdue_notified_at``, ``escalated_at``), never by how many
passes ran, so a worker back from downtime sends one reminder and one escalation per late task, not one per day
it missed. Rows are taken with ``FOR UPDATE SKIP LOCKED`` and checked again once locked, so two workers never
announce the same task (on SQLite every transaction holds the one write lock, which serialises them anyway).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, Instance, RoleGrant, User
from engine.review.notify import notify, task_audience
from engine.workdays.calendar import END_OF_DAY, SHANGHAI, WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.uow import audit

#: Applications whose steps nobody chases: stopped on purpose (挂起), ended, or terminated.
QUIET_STATUSES = ("suspended", "terminated", "completed")
SYSTEM = "system"


@dataclass(frozen=True)
class Chased:
    """What one pass sent: reminders to holders and escalations to leaders and supervisors (tasks, not people)."""

    reminded: int
    escalated: int


def chase_late_tasks(session: Session, now: dt.datetime) -> Chased:
    """Remind the holders of tasks that fell due, then escalate those a working day past due. Commits."""
    return Chased(remind_overdue(session, now), escalate_overdue(session, now))


def escalation_due_at(calendar: WorkCalendar, due_at: dt.datetime, due_hours: int | None = None) -> dt.datetime:
    """Return when a late task is escalated: the end (Beijing time) of the next working day after its due day.

    A deadline in hours is escalated one more span of those hours after it, whatever the day.
    """
    if due_hours:
        return due_at + dt.timedelta(hours=due_hours)
    due_day = due_at.astimezone(SHANGHAI).date()
    day = calendar.add_workdays(due_day, 1).date
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(dt.UTC)


def remind_overdue(session: Session, now: dt.datetime) -> int:
    """Tell the holder of every task that has fallen due since the last pass; return how many tasks. Commits."""
    tasks = list(session.scalars(_late_tasks(now).where(HumanTask.overdue_notified_at.is_(None))
                                 .with_for_update(skip_locked=True, of=HumanTask)))
    for task in tasks:
        notify(session, task_audience(session, task), "overdue", "", task.instance, task, event="overdue",
               params={"step": task.name, "due": _iso(task.due_at)})
        task.overdue_notified_at = now
    session.commit()
    return len(tasks)


def escalate_overdue(session: Session, now: dt.datetime) -> int:
    """Tell the unit's leaders and every supervisor of each task a working day past due; return how many. Commits."""
    # The moment depends on the calendar, so pick the tasks first and lock only those whose moment has passed.
    # Escalation comes a whole day or more after a working-day deadline, which keeps the first read short;
    # a deadline in hours escalates sooner, so those rows are read whenever they are late.
    candidates = session.execute(
        _late_tasks(now, HumanTask.id, HumanTask.due_at, HumanTask.due_hours)
        .where(HumanTask.escalated_at.is_(None),
               or_(HumanTask.due_hours.is_not(None), HumanTask.due_at < now - dt.timedelta(days=1)))).tuples().all()
    calendar = load_calendar(session) if candidates else WorkCalendar()
    due = [task_id for task_id, due_at, hours in candidates
           if due_at and escalation_due_at(calendar, due_at, hours) < now]
    # The instance is locked too (before its task, like every unit of work), because the escalation joins its trail.
    tasks = list(session.scalars(_late_tasks(now).where(HumanTask.id.in_(due), HumanTask.escalated_at.is_(None))
                                 .with_for_update(skip_locked=True, of=[HumanTask.id, Instance.id]))) if due else []
    for task in tasks:
        _escalate(session, task, now)
    session.commit()
    return len(tasks)


def escalation_audience(session: Session, task: HumanTask) -> list[User]:
    """Who hears of a task a working day past due: the leaders (unit_leader) of its unit and every supervisor."""
    return list(session.scalars(select(User).join(RoleGrant).where(User.active.is_(True), or_(
        and_(RoleGrant.role == "unit_leader", RoleGrant.unit_id == task.unit_id), RoleGrant.role == "supervisor"))
        .order_by(User.id)).unique())  # unique: a leader who also supervises is told once


def _escalate(session: Session, task: HumanTask, now: dt.datetime) -> None:
    recipients = escalation_audience(session, task)
    holders = [u.display_name for u in task_audience(session, task)]
    notify(session, recipients, "escalation", "", task.instance, task, event="escalation",
           params={"step": task.name, "due": _iso(task.due_at), "holders": holders})
    audit(session, task.instance, SYSTEM, "escalate", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
          data_changed={"due_at": _iso(task.due_at), "told": [u.display_name for u in recipients]})
    task.escalated_at = now


def _late_tasks(now: dt.datetime, *columns: Any) -> Select[Any]:
    """Open tasks whose deadline is before ``now``, on applications that are still being worked on."""
    query = select(*columns) if columns else select(HumanTask)
    return query.select_from(HumanTask).join(Instance, Instance.id == HumanTask.instance_id).where(
        HumanTask.completed_at.is_(None), HumanTask.due_at < now, Instance.status.not_in(QUIET_STATUSES))


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
