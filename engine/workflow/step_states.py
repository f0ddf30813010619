"""Where an instance stands on its diagram: steps done, open (holder, due, working days overdue) and failed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask, Instance
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import ProcessRuntime

ENDED = ("completed", "terminated")


@dataclass(frozen=True)
class OpenStep:
    """A step the instance waits on: a person's task (``task`` set) or an engine step such as a timer."""

    bpmn_id: str
    name: str
    task: HumanTask | None
    due_at: dt.datetime | None
    overdue: bool = False
    overdue_workdays: int = 0


@dataclass(frozen=True)
class StepStates:
    """The diagram's markers: done (green), open (yellow), overdue (red) and failed (purple) steps."""

    done: list[str]
    open: list[OpenStep] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    error: list[str] = field(default_factory=list)


def step_states(session: Session, runtime: ProcessRuntime, instance: Instance, now: dt.datetime) -> StepStates:
    """Read the instance's workflow and open task rows and say which step is in which state."""
    calendar = load_calendar(session)
    workflow = load_workflow(runtime, instance, calendar)
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))
        .order_by(HumanTask.created_at, HumanTask.bpmn_id)).all()
    opened = [_task_step(row, calendar, now) for row in rows]
    if instance.status not in ENDED:
        due = runtime.next_timer_at(workflow)
        waiting = [t.task_spec for t in workflow.get_tasks(state=TaskState.WAITING) if not t.task_spec.manual]
        opened += [OpenStep(s.bpmn_id, s.bpmn_name or s.bpmn_id, None, due) for s in waiting if s.bpmn_id]
    failed = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.ERROR) if t.task_spec.bpmn_id}
    if instance.incident and instance.incident.get("bpmn_id"):
        failed.add(instance.incident["bpmn_id"])
    current = {step.bpmn_id for step in opened} | failed
    done = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}
    overdue = {step.bpmn_id for step in opened if step.overdue}
    return StepStates(sorted(done - current), opened, sorted(overdue), sorted(failed))


def _task_step(row: HumanTask, calendar: WorkCalendar, now: dt.datetime) -> OpenStep:
    if row.due_at is None or now <= row.due_at:
        return OpenStep(row.bpmn_id, row.name, row, row.due_at)
    late = calendar.workdays_between(row.due_at.astimezone(SHANGHAI).date(), now.astimezone(SHANGHAI).date())
    return OpenStep(row.bpmn_id, row.name, row, row.due_at, overdue=True, overdue_workdays=late.days)
