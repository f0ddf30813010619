"""Units of work on applications: start one, claim, release and complete its tasks.

Each public function is one unit of work: it checks who may act, locks the instance, acts through the
runtime, writes the instance, its task rows and the audit trail, and commits once.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Attachment, HumanTask, Instance, ProcessVersion, Unit, User
from engine.org import spokespersons
from engine.org.access import acting_for, holds_candidate_role, require_can_act
from engine.review import series, signing
from engine.review.completion import finish_task
from engine.review.completion import open_task as _open_task
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version, load_workflow, model_of
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.scripting import shanghai_today
from engine.workflow.uow import audit, save_workflow, unit_of_work

#: The decision value every review form uses for 退回修改.
RETURN_DECISION = "return"

#: Processes only the worker starts (the yearly annual evaluation, see engine.worker.annual), never a person.
SYSTEM_STARTED = frozenset({"annual_evaluation"})


def start_application(
    session: Session, runtime: ProcessRuntime, actor: User, process_key: str, unit_code: str | None = None
) -> Instance:
    """Start an instance of the newest version of a process for one of the actor's units."""
    with unit_of_work(session):
        version = latest_version(session, process_key)
        if version is None:
            raise NotFound(f"流程 {process_key} 不存在")
        if version.process_key in SYSTEM_STARTED:
            raise Forbidden("此流程由系统每年定时启动，不能手动发起")
        model = model_of(runtime, version)
        calendar = load_calendar(session)
        unit = _starting_unit(session, runtime, actor, model, calendar, unit_code)
        instance = open_instance(session, runtime, version, unit, actor.username)
    return instance


def open_instance(
    session: Session, runtime: ProcessRuntime, version: ProcessVersion, unit: Unit, started_by: str,
    data: dict[str, Any] | None = None,
) -> Instance:
    """Create an instance for a unit, run it to its first wait state and record its start (caller's unit of work)."""
    instance = create_instance(session, runtime, version, unit, started_by, data or {}, load_calendar(session))
    audit(session, instance, started_by, "start", data_changed={"process": version.name, "version": version.version})
    return instance


def create_instance(
    session: Session, runtime: ProcessRuntime, version: ProcessVersion, unit: Unit, started_by: str,
    data: dict[str, Any], calendar: WorkCalendar, **columns: Any,
) -> Instance:
    """Start a workflow of ``version`` for ``unit`` with ``data`` and write its instance and task rows (no commit)."""
    workflow = runtime.start(model_of(runtime, version), calendar,
                             {"unit": unit.code, "unit_name": unit.name, "unit_kind": unit.kind, **data})
    instance = Instance(
        process_key=version.process_key, version_id=version.id, version=version, status="running",
        unit_id=unit.id, unit=unit, started_by=started_by, started_at=clock.now(), state="", **columns,
    )
    session.add(instance)
    session.flush()
    save_workflow(session, runtime, instance, workflow, calendar, actor=started_by)
    return instance


def starting_units(session: Session, runtime: ProcessRuntime, actor: User, version: ProcessVersion) -> list[Unit]:
    """Return the units for which the actor may start this process (none for processes only the worker starts)."""
    if version.process_key in series.WORKER_STARTED | SYSTEM_STARTED:
        return []
    return _first_role_units(runtime, actor, model_of(runtime, version), load_calendar(session))


def _first_role_units(runtime: ProcessRuntime, actor: User, model: Any, calendar: WorkCalendar) -> list[Unit]:
    first_roles = {role for info in runtime.ready_human_tasks(runtime.start(model, calendar, {}))
                   for role in info.candidate_roles}
    return [g.unit for g in actor.grants if g.role in first_roles]


def _starting_unit(
    session: Session, runtime: ProcessRuntime, actor: User, model: Any, calendar: WorkCalendar, unit_code: str | None
) -> Unit:
    if model.process_key in series.WORKER_STARTED | SYSTEM_STARTED:
        raise Forbidden("定时发布轮次由定时发布系列按时自动发起，不能手动发起")
    units = _first_role_units(runtime, actor, model, calendar)
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
        principal = acting_for(actor, task)
        if task.assignee is not None and task.assignee in (actor.username, principal):
            return task
        if task.assignee is not None:
            raise Conflict(f"此任务已由 {task.assignee} 认领")
        # A delegate claims in the principal's name: the task stays workable by the principal when the delegation
        # ends, and the delegate keeps acting on it through the delegation meanwhile.
        task.assignee = principal or actor.username
        audit(session, instance, actor.username, "claim", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
              on_behalf_of=principal)
    return task


def release_task(session: Session, runtime: ProcessRuntime, actor: User, task_id: str) -> HumanTask:
    """Give a claimed task back to its group (释放)."""
    with unit_of_work(session):
        task, instance = _open_task(session, actor, task_id)
        if task.assignee is None or task.assignee not in (actor.username, acting_for(actor, task)):
            raise Forbidden("只能释放自己认领的任务")
        if signing.open_group(session, task.id) is not None:
            raise Conflict("本环节有进行中的加签或委派，不能释放；请先减签")
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
        workflow = load_workflow(runtime, instance, calendar)
        spiff_task = runtime.task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("该任务已办理或已不在当前环节")
        values = _validated(session, task, instance, calendar, data, dict(spiff_task.data))
        decision = forms.decision_field(task.form_key)
        # One 退回: the model's flow decides where a 退回修改 goes; the step it reopens is marked as returned, with
        # the reason, banner, notice and trail of the 退回 panel.
        returned = str(values.get("comment") or "") if values.get(decision or "") == RETURN_DECISION else None
        if returned is not None:
            signing.require_holder_row(task)
        # 加签 / 委派: an added approver's opinion, or the holder's decision kept until the added approvers agree.
        elif signing.handled(session, runtime, actor, task, instance, workflow, calendar, values):
            return instance
        finish_task(session, runtime, instance, workflow, calendar, task, values, actor, acting_for(actor, task),
                    returned=returned)
    return instance


def form_values(task: HumanTask, data: dict[str, Any]) -> dict[str, Any]:
    """The values a task's form shows: what the workflow holds under the form's field names (reverse of above)."""
    names = {field["name"] for field in forms.describe_form(task.form_key)}
    prefix = f"{task.bpmn_id}_" if forms.decision_field(task.form_key) else ""
    return {name: data[prefix + name] for name in names if prefix + name in data}


def prefill(session: Session, runtime: ProcessRuntime, task: HumanTask) -> dict[str, Any]:
    """Load the workflow and return the values the open task's form starts with."""
    if not task.is_open or task.form_key == "sign_opinion":
        return {}  # an added approver's opinion starts blank, whatever the step's own form holds
    instance = task.instance
    workflow = load_workflow(runtime, instance, load_calendar(session))
    spiff_task = runtime.task(workflow, task.spiff_task_id)
    return form_values(task, dict(spiff_task.data)) if spiff_task is not None else {}


def _validated(
    session: Session, task: HumanTask, instance: Instance, calendar: WorkCalendar,
    data: dict[str, Any], task_data: dict[str, Any],
) -> dict[str, Any]:
    def add_workdays(start: Any, days: int) -> tuple[Any, bool]:
        result = calendar.add_workdays(start, days)
        return result.date, result.provisional

    ctx = forms.FormContext(
        today=shanghai_today(), add_workdays=add_workdays, attachment_kinds=_AttachedKinds(session, instance.id),
        workflow_data=task_data,
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


class _AttachedKinds(Container[str]):
    """The kinds of document an instance has, read on the first question (most forms never ask)."""

    def __init__(self, session: Session, instance_id: int) -> None:
        self._session, self._instance_id = session, instance_id
        self._kinds: frozenset[str] | None = None

    def __contains__(self, kind: object) -> bool:
        if self._kinds is None:
            self._kinds = frozenset(self._session.scalars(
                select(Attachment.kind).where(Attachment.instance_id == self._instance_id)))
        return kind in self._kinds
