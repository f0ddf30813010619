"""The unit of work: lock an instance, act, write instance + task rows + audit rows, commit once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, lazyload, undefer
from sqlalchemy.orm.exc import StaleDataError

from engine import clock
from engine.errors import Conflict, NotFound
from engine.models import AuditEntry, HumanTask, Instance, SignGroup
from engine.org.access import HQ_ROLES, OFFICE_ROLES, may_hold
from engine.org.units import office_unit
from engine.review.notify import notify_ended, notify_new_task
from engine.workdays.calendar import WorkCalendar
from engine.workflow.audit_chain import chain_entry, mark_locked
from engine.workflow.runtime import HumanTaskInfo, OpenTasks, ProcessRuntime


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit once if the block succeeds; roll everything back otherwise. A lost race is a Conflict.

    Nested in another unit of work on the same session it is part of that one, which commits: so a caller can
    read its answer (the instance as the action left it) in the same transaction as the action."""
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            yield
        finally:
            session.info[_DEPTH] = depth
        return
    session.info[_DEPTH] = 1
    try:
        yield
        session.info[_DEPTH] = 0
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("申请已被他人同时修改，请刷新后重试") from exc
    except OperationalError as exc:
        session.rollback()
        if "locked" in str(exc).lower():
            raise Conflict("系统繁忙：申请正被他人处理，请稍后重试") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_DEPTH] = 0


#: ``session.info`` key: how deep in units of work the session is.
_DEPTH = "pressflow_unit_of_work_depth"


#: ``session.info`` key: the workflows saved in the open transaction, {id: (runtime, workflow, state)}.
_SAVED = "pressflow_saved_workflows"


@event.listens_for(Session, "after_commit")
def _keep_saved(session: Session) -> None:
    # Committed: this process may continue these workflows without restoring them (engine.workflow.live).
    for runtime, workflow, state in session.info.pop(_SAVED, {}).values():
        runtime.live.keep(state, workflow)


@event.listens_for(Session, "after_soft_rollback")
def _forget_saved(session: Session, previous_transaction: SessionTransaction) -> None:
    # Rolled back (a savepoint too): the workflow may hold what the database never got.
    session.info.pop(_SAVED, None)


def lock_instance(session: Session, instance_id: int, *, skip_locked: bool = False) -> Instance | None:
    """Load an instance holding its row lock (PostgreSQL) or the database write lock (SQLite)."""
    query = (select(Instance).where(Instance.id == instance_id).options(undefer(Instance.state))
             .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Instance, skip_locked=skip_locked)
    instance = session.scalar(query)
    if instance is not None:
        mark_locked(session, instance)
    return instance


def lock_instance_of_task(session: Session, task_id: str) -> tuple[HumanTask, Instance] | None:
    """Lock the instance a task row belongs to (one query), then read the row as it stands under that lock."""
    query = (select(Instance).join(HumanTask, HumanTask.instance_id == Instance.id).where(HumanTask.id == task_id)
             .options(undefer(Instance.state)).execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Instance)
    instance = session.scalar(query)
    if instance is None:
        return None
    mark_locked(session, instance)
    # Not the row's joined instance: that would load it again and drop the state the lock has just read.
    task = session.get(HumanTask, task_id, populate_existing=True, options=[lazyload(HumanTask.instance)])
    return (task, instance) if task is not None else None


def require_instance(session: Session, instance_id: int) -> Instance:
    """Lock and return an instance, or raise NotFound."""
    instance = lock_instance(session, instance_id)
    if instance is None:
        raise NotFound("申请不存在或无权查看")
    return instance


def audit(session: Session, instance: Instance, actor: str, action: str, **fields: Any) -> AuditEntry:
    """Append one row to the instance's trail."""
    entry = AuditEntry(instance_id=instance.id, at=clock.now(), actor=actor, action=action, **fields)
    chain_entry(session, entry, instance)
    session.add(entry)
    return entry


@dataclass(frozen=True)
class SendBack:
    """A task reopened by 退回 or 撤回: who sent it back, why, and who gets it again."""

    #: The reopened SpiffWorkflow task; None: every step the action made ready (a 退回修改 decision's flow).
    spiff_task_id: str | None
    by: str
    comment: str
    #: Who gets it again, if they still hold one of its roles in its unit (else it goes to the role's queue).
    assignee: str | None
    kind: str = "returned"  # returned | withdrawn


def save_workflow(
    session: Session, runtime: ProcessRuntime, instance: Instance, workflow: BpmnWorkflow, calendar: WorkCalendar,
    *, send_back: SendBack | None = None, actor: str | None = None,
) -> None:
    """Write the workflow state and derived columns, and bring the task rows in line with it.

    ``actor`` is whose action this is: the new tasks are announced to everyone else.
    """
    now = clock.now()
    instance.state = runtime.dump(workflow)
    # Kept for this process once the unit of work commits; saving it is the last thing done to it.
    session.info.setdefault(_SAVED, {})[id(workflow)] = (runtime, workflow, instance.state)
    open_tasks = runtime.open_tasks(workflow)  # one walk of the tree for what follows, not one per question
    instance.data = _snapshot(workflow, open_tasks)
    instance.title = str(instance.data.get("title") or instance.title or "")[:200]
    instance.next_timer_at = runtime.next_timer_at(workflow)
    instance.updated_at = now
    ready = runtime.describe(open_tasks.ready)
    _sync_tasks(session, instance, ready, calendar, now, send_back, actor)
    _set_status(instance, workflow, runtime, ready, open_tasks, now)


def record_end(session: Session, instance: Instance, actor: str) -> None:
    """When the instance has just ended, say so in its trail (the outcome as a code) and tell the applicant."""
    if instance.status == "completed":
        audit(session, instance, "system", "end", data_changed={"outcome": instance.outcome})
        notify_ended(session, instance, actor)


def record_incident(session: Session, instance: Instance, exc: Exception, actor: str) -> None:
    """Keep what SpiffWorkflow says went wrong (task, line, message) and flag the instance."""
    failed = getattr(exc, "task", None)
    instance.incident = {
        "task_id": str(failed.id) if failed is not None else None,
        "bpmn_id": failed.task_spec.bpmn_id if failed is not None else None,
        "error_type": getattr(exc, "error_type", type(exc).__name__),
        "message": str(exc),
        "line_number": getattr(exc, "line_number", None),
        "error_line": getattr(exc, "error_line", None),
    }
    instance.status = "error"
    audit(session, instance, actor, "incident", bpmn_id=instance.incident["bpmn_id"], comment=str(exc))



def _set_status(
    instance: Instance, workflow: BpmnWorkflow, runtime: ProcessRuntime, ready: list[HumanTaskInfo],
    open_tasks: OpenTasks, now: dt.datetime,
) -> None:
    if instance.status in ("suspended", "terminated"):
        return
    if not ready and workflow.is_completed():  # a READY user task is unfinished: no walk needed to know
        instance.status, instance.ended_at = "completed", now
        instance.outcome = runtime.outcome(workflow)
        instance.next_timer_at = None
    elif instance.incident is not None or open_tasks.failed:
        # A timer whose expression fails stays FUTURE, not ERROR: the incident alone says the instance is stuck.
        instance.status = "error"
    elif ready:
        instance.status = "running"
    elif instance.next_timer_at is not None:
        instance.status = "waiting"
    else:
        instance.status = "running"


def _sync_tasks(
    session: Session, instance: Instance, ready: list[HumanTaskInfo], calendar: WorkCalendar, now: dt.datetime,
    send_back: SendBack | None, actor: str | None,
) -> None:
    rows = list(session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))))
    # Added approvers' rows (加签) share the holder's SpiffWorkflow task: only the holder's row stands for it.
    open_rows = {row.spiff_task_id: row for row in rows if row.sign_group_id is None}
    ready_ids = {info.task_id for info in ready}
    for row in rows:
        if row.spiff_task_id not in ready_ids:
            # The engine moved past it (a parallel branch ended, the instance was sent back or migrated).
            row.completed_at, row.closed_reason = now, "cancelled"
    _close_orphan_groups(session, instance, now)
    for info in ready:
        if info.task_id not in open_rows:
            row = _new_task_row(session, instance, info, calendar, now)
            if send_back is not None and send_back.spiff_task_id in (None, info.task_id):
                row.returned_by, row.returned_comment = send_back.by, send_back.comment
                row.sent_back_as = send_back.kind
                if send_back.assignee and may_hold(session, send_back.assignee, row):
                    row.assignee = send_back.assignee
            session.add(row)
            notify_new_task(session, instance, row, actor)


def _close_orphan_groups(session: Session, instance: Instance, now: dt.datetime) -> None:
    # A step sent back (退回 / 撤回) or moved past ends its 加签 too: nobody is left waiting on it.
    for group in session.scalars(select(SignGroup).where(
            SignGroup.instance_id == instance.id, SignGroup.closed_at.is_(None))):
        holder = session.get(HumanTask, group.task_id)
        if holder is None or holder.completed_at is not None:
            group.closed_at, group.outcome = now, "cancelled"
            for row in session.scalars(select(HumanTask).where(
                    HumanTask.sign_group_id == group.id, HumanTask.completed_at.is_(None))):
                row.completed_at, row.closed_reason = now, "cancelled"


def _new_task_row(
    session: Session, instance: Instance, info: HumanTaskInfo, calendar: WorkCalendar, now: dt.datetime
) -> HumanTask:
    due_at, provisional = task_due_at(calendar, now, info)
    unit_id, assignee = task_placement(session, instance, info)
    return HumanTask(
        id=str(uuid.uuid4()), spiff_task_id=info.task_id, instance_id=instance.id, name=info.name,
        bpmn_id=info.bpmn_id, form_key=info.form_key,
        candidate_roles=info.candidate_roles, unit_id=unit_id, assignee=assignee, created_at=now,
        due_at=due_at, due_provisional=provisional, due_hours=info.due_in_hours or None,
    )


def task_due_at(calendar: WorkCalendar, now: dt.datetime, info: HumanTaskInfo) -> tuple[dt.datetime, bool]:
    """Return a new task's deadline: wall-clock hours when the diagram gives ``dueInHours``, else working days."""
    if info.due_in_hours > 0:
        return now + dt.timedelta(hours=info.due_in_hours), False
    return calendar.due_at(now, info.due_in_workdays)


def task_placement(session: Session, instance: Instance, info: HumanTaskInfo) -> tuple[int, str | None]:
    """Say in which unit a ready user task is held and by whom, if it belongs to one person."""
    office_task = bool(info.candidate_roles) and all(r in OFFICE_ROLES for r in info.candidate_roles)
    hq_task = bool(info.candidate_roles) and all(r in HQ_ROLES for r in info.candidate_roles)
    unit_id = instance.unit_id
    if office_task:
        unit_id = office_unit(session).id
    elif hq_task and instance.joint_unit_id is not None:
        unit_id = instance.joint_unit_id  # the HQ of a timed-release round gets the steps of its roles
    # The application belongs to the clerk who started it: their own steps come back to them. One the worker
    # started (the yearly evaluation) belongs to no clerk, so the unit's clerks share it as a group task.
    owned = "applicant" in info.candidate_roles and instance.started_by != "system"
    assignee = instance.started_by if owned else info.designated_assignee
    return unit_id, assignee


def _snapshot(workflow: BpmnWorkflow, open_tasks: OpenTasks) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if workflow.last_task is not None:
        data.update(workflow.last_task.data)
    for task in open_tasks.ready:
        data.update(task.data)
    # A failed step holds the data it failed on, including what a supervisor corrected before retrying it.
    for task in open_tasks.failed:
        data.update(task.data)
    data.update(workflow.data)
    return {k: v for k, v in data.items() if _jsonable(v)}


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False
