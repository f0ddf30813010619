"""Units of work on applications: start one, claim, release and complete its tasks.

Each public function is one unit of work: it checks who may act, locks the instance, acts through the
runtime, writes the instance, its task rows and the audit trail, and commits once.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Attachment, HumanTask, Instance, Unit, User
from engine.org import spokespersons
from engine.org.access import acting_for, holds_candidate_role, require_can_act, require_visible
from engine.review.carbon_copy import copy_on_completion
from engine.review.delegation import load_delegations
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version, model_of
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.scripting import shanghai_today
from engine.workflow.uow import audit, record_end, record_incident, require_instance, save_workflow, unit_of_work


def start_application(
    session: Session, runtime: ProcessRuntime, actor: User, process_key: str, unit_code: str | None = None
) -> Instance:
    """Start an instance of the newest version of a process for one of the actor's units."""
    with unit_of_work(session):
        version = latest_version(session, process_key)
        if version is None:
            raise NotFound(f"流程 {process_key} 不存在")
        model = model_of(runtime, version)
        calendar = load_calendar(session)
        unit = _starting_unit(session, runtime, actor, model, calendar, unit_code)
        data = {"unit": unit.code, "unit_name": unit.name, "unit_kind": unit.kind}
        workflow = runtime.start(model, calendar, data)
        instance = Instance(
            process_key=version.process_key, version_id=version.id, version=version, status="running",
            unit_id=unit.id, unit=unit, started_by=actor.username, started_at=clock.now(), state="",
        )
        session.add(instance)
        session.flush()
        save_workflow(session, runtime, instance, workflow, calendar, actor=actor.username)
        audit(session, instance, actor.username, "start",
              data_changed={"process": version.name, "version": version.version})
    return instance


def _starting_unit(
    session: Session, runtime: ProcessRuntime, actor: User, model: Any, calendar: WorkCalendar, unit_code: str | None
) -> Unit:
    first_roles = {role for info in runtime.ready_human_tasks(runtime.start(model, calendar, {}))
                   for role in info.candidate_roles}
    units = [g.unit for g in actor.grants if g.role in first_roles]
    if unit_code is not None:
        units = [u for u in units if u.code == unit_code]
    if not units:
        raise Forbidden("您没有在任何单位发起此流程的权限（须具有申报单位经办人角色）")
    return units[0]


def claim_task(session: Session, runtime: ProcessRuntime, actor: User, task_id: str) -> HumanTask:
    """Take a group task (认领) so that only the actor works on it."""
    with unit_of_work(session):
        task, instance = _open_task(session, actor, task_id)
        if not holds_candidate_role(actor, task):
            require_can_act(actor, task)
        if task.assignee == actor.username:
            return task
        if task.assignee is not None and task.assignee != acting_for(actor, task):
            raise Conflict(f"此任务已由 {task.assignee} 认领")
        task.assignee = actor.username
        audit(session, instance, actor.username, "claim", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id)
    return task


def release_task(session: Session, runtime: ProcessRuntime, actor: User, task_id: str) -> HumanTask:
    """Give a claimed task back to its group (释放)."""
    with unit_of_work(session):
        task, instance = _open_task(session, actor, task_id)
        if task.assignee != actor.username:
            raise Forbidden("只能释放自己认领的任务")
        task.assignee = None
        audit(session, instance, actor.username, "release", task_id=task.id, task_name=task.name,
              bpmn_id=task.bpmn_id)
    return task


def complete_task(
    session: Session, runtime: ProcessRuntime, actor: User, task_id: str, data: dict[str, Any]
) -> Instance:
    """Validate the form, complete the task and run the workflow to its next wait state."""
    with unit_of_work(session):
        task, instance = _open_task(session, actor, task_id)
        require_can_act(actor, task)
        calendar = load_calendar(session)
        workflow = runtime.load(model_of(runtime, instance.version), instance.state, calendar)
        spiff_task = runtime.task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("该任务已办理或已不在当前环节")
        values = _validated(session, task, instance, calendar, data, dict(spiff_task.data))
        spokespersons.on_completion(session, instance, task, values, dict(spiff_task.data), actor)
        spiff_task.set_data(**workflow_values(task, values))
        task.completed_at, task.completed_by, task.closed_reason = clock.now(), actor.username, "completed"
        task.on_behalf_of = acting_for(actor, task)
        task.decision = values.get("decision") if forms.decision_field(task.form_key) else None
        task.assignee = task.assignee or actor.username
        # Audit before running on: an incident raised by the next steps belongs after the completion in history.
        audit(session, instance, actor.username, "complete", task_id=task.id, task_name=task.name,
              bpmn_id=task.bpmn_id, comment=values.get("comment") or None, data_changed=values,
              on_behalf_of=task.on_behalf_of)
        copy_on_completion(session, instance, task, spiff_task.task_spec.extensions.get("properties", {}), actor,
                           values)
        _run(session, runtime, instance, workflow, spiff_task, actor)
        save_workflow(session, runtime, instance, workflow, calendar, actor=actor.username)
        record_end(session, instance, actor.username)
    return instance


def workflow_values(task: HumanTask, values: dict[str, Any]) -> dict[str, Any]:
    """Name a review's decision after its step so later gateways read the right one."""
    if forms.decision_field(task.form_key) is None:
        return values
    return {f"{task.bpmn_id}_{name}": value for name, value in values.items()}


def form_values(task: HumanTask, data: dict[str, Any]) -> dict[str, Any]:
    """The values a task's form shows: what the workflow holds under the form's field names (reverse of above)."""
    names = {field["name"] for field in forms.describe_form(task.form_key)}
    prefix = f"{task.bpmn_id}_" if forms.decision_field(task.form_key) else ""
    return {name: data[prefix + name] for name in names if prefix + name in data}


def prefill(session: Session, runtime: ProcessRuntime, task: HumanTask) -> dict[str, Any]:
    """Load the workflow and return the values the open task's form starts with."""
    if not task.is_open:
        return {}
    instance = task.instance
    workflow = runtime.load(model_of(runtime, instance.version), instance.state, load_calendar(session))
    spiff_task = runtime.task(workflow, task.spiff_task_id)
    return form_values(task, dict(spiff_task.data)) if spiff_task is not None else {}


def _validated(
    session: Session, task: HumanTask, instance: Instance, calendar: WorkCalendar,
    data: dict[str, Any], task_data: dict[str, Any],
) -> dict[str, Any]:
    def add_workdays(start: Any, days: int) -> tuple[Any, bool]:
        result = calendar.add_workdays(start, days)
        return result.date, result.provisional

    kinds = frozenset(session.scalars(select(Attachment.kind).where(Attachment.instance_id == instance.id)))
    ctx = forms.FormContext(
        today=shanghai_today(), add_workdays=add_workdays, attachment_kinds=kinds, workflow_data=task_data,
        facts=spokespersons.form_facts(session, instance, task.form_key),
    )
    try:
        values = forms.validate_form(task.form_key, data, ctx)
    except forms.FormError as exc:
        raise InvalidInput("表单填写有误", fields=exc.fields) from exc
    except KeyError as exc:
        raise InvalidInput(f"未知表单 {task.form_key}") from exc
    if task.form_key == spokespersons.PROPOSAL_FORM:
        spokespersons.check_username(session, values)
    return values


def _run(session: Session, runtime: ProcessRuntime, instance: Instance, workflow: Any, spiff_task: Any,
         actor: User) -> None:
    try:
        spiff_task.run()
        runtime.advance(workflow)
    except (WorkflowTaskException, WorkflowException) as exc:
        record_incident(session, instance, exc, actor.username)


def _open_task(session: Session, actor: User, task_id: str) -> tuple[HumanTask, Instance]:
    load_delegations(session, actor)
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("任务不存在或无权查看")
    require_visible(actor, task.instance)
    instance = require_instance(session, task.instance_id)
    session.refresh(task)
    if task.completed_at is not None:
        raise Conflict("该任务已办理，不能重复提交")
    if instance.status in ("suspended", "terminated", "completed"):
        raise Conflict(f"申请当前状态为 {instance.status}，不能办理")
    return task, instance
