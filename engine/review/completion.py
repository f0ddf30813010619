"""Completing a step in the engine: store the decision, run the workflow on, record how it ended.

Shared by 办理 (``applications.complete_task``) and by 加签, where the holder's decision waits for the added
approvers and completes the step only once they agree.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.errors import Conflict, NotFound
from engine.models import HumanTask, Instance, User
from engine.org import spokespersons
from engine.org.access import require_visible
from engine.review import series
from engine.review.carbon_copy import copy_on_completion
from engine.review.delegation import load_delegations
from engine.review.interviews import apply_unit_fields
from engine.workdays.calendar import WorkCalendar
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import SendBack, audit, lock_instance_of_task, record_end, record_incident, save_workflow


def workflow_values(task: HumanTask, values: dict[str, Any]) -> dict[str, Any]:
    """Name a review's decision after its step so later gateways read the right one."""
    if forms.decision_field(task.form_key) is None:
        return values
    return {f"{task.bpmn_id}_{name}": value for name, value in values.items()}


def finish_task(
    session: Session, runtime: ProcessRuntime, instance: Instance, workflow: Any, calendar: WorkCalendar,
    task: HumanTask, values: dict[str, Any], actor: str | User, on_behalf_of: str | None, *,
    returned: str | None = None,
) -> None:
    """Complete the step's SpiffWorkflow task with validated values as ``actor`` and save the instance.

    ``actor``: the user acting (as the request loaded them), or the username of one (a held 加签 decision).

    ``returned``: the step's 退回修改 decision with this reason; the steps it reopens are marked returned.
    """
    spiff_task = runtime.task(workflow, task.spiff_task_id)
    assert spiff_task is not None  # noqa: S101 - the caller checked the task is READY in this unit of work
    if isinstance(actor, User):
        sender: User | None = actor
        actor = actor.username
    else:
        sender = session.scalar(select(User).where(User.username == actor))
    if sender is not None:
        spokespersons.on_completion(session, instance, task, values, dict(spiff_task.data), sender)
    spiff_task.set_data(**workflow_values(task, values))
    task.completed_at, task.completed_by = clock.now(), actor
    task.closed_reason = "completed" if returned is None else "returned"
    task.on_behalf_of = on_behalf_of
    task.decision = values.get("decision") if forms.decision_field(task.form_key) else None
    task.assignee = task.assignee or actor
    if returned is None:
        # Audit before running on: an incident raised by the next steps belongs after the completion in history.
        audit(session, instance, actor, "complete", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
              comment=values.get("comment") or None, data_changed=values, on_behalf_of=on_behalf_of)
    if sender is not None:
        copy_on_completion(session, instance, task, spiff_task.task_spec.extensions.get("properties", {}), sender,
                           values)
    apply_unit_fields(session, instance, spiff_task, values)
    try:
        spiff_task.run()
        runtime.advance(workflow)
    except (WorkflowTaskException, WorkflowException) as exc:
        record_incident(session, instance, exc, actor)
    send_back = SendBack(None, actor, returned, None) if returned is not None else None
    save_workflow(session, runtime, instance, workflow, calendar, send_back=send_back, actor=actor)
    if returned is not None:
        reopened = list(session.scalars(select(HumanTask.name).where(
            HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None), HumanTask.returned_by == actor,
            HumanTask.created_at >= task.completed_at)))
        audit(session, instance, actor, "return", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
              comment=returned, data_changed={"target": "、".join(reopened)} if reopened else None,
              on_behalf_of=on_behalf_of)
    series.after_completion(session, instance, task, values)
    record_end(session, instance, actor)


def open_task(session: Session, actor: User, task_id: str) -> tuple[HumanTask, Instance]:
    """Load an open task the actor may see, holding its instance's lock, or raise why it cannot be acted on."""
    load_delegations(session, actor)
    # Lock first: the locking query loads the instance, so seeing whether the actor may see it costs no query.
    found = lock_instance_of_task(session, task_id)
    if found is None:
        raise NotFound("任务不存在或无权查看")
    task, instance = found
    require_visible(actor, instance)
    if task.completed_at is not None:
        raise Conflict("该任务已办理，不能重复提交")
    if instance.status in ("suspended", "terminated", "completed"):
        raise Conflict(f"申请当前状态为 {instance.status}，不能办理")
    return task, instance
