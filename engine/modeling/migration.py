"""Move running applications to a newer version of their process.

A preview simulates each move in memory with SpiffWorkflow's diff (``diff_workflow`` / ``migrate_workflow``): what
changes for the instance and, if it cannot move, why. Migrating repeats the same simulation on the locked instance
and saves it, each instance in its own unit of work with a ``migrate`` audit entry, so one failure stops nothing else.
Ready and waiting tasks are reset by the move (their drafts live outside the engine); their ids, and so their inbox
rows and claims, stay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from SpiffWorkflow.bpmn.util.diff import migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, Forbidden, NotFound, PressflowError
from engine.modeling.versions import ENDED, get_version
from engine.models import HumanTask, Instance, ProcessVersion, User
from engine.org.access import OFFICE_ROLES, may_model
from engine.org.units import office_unit
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version, load_workflow, model_of
from engine.workflow.runtime import HumanTaskInfo, ParsedModel, ProcessRuntime
from engine.workflow.uow import audit, require_instance, save_workflow, unit_of_work

log = logging.getLogger(__name__)

MOVABLE = ("running", "waiting")
STATUS_REASONS = {
    "suspended": "申请已挂起：请先恢复再迁移",
    "error": "申请处于流程异常状态：请先处理异常再迁移",
    "completed": "申请已办结",
    "terminated": "申请已终止",
}
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
#: SpiffWorkflow's names for what differs between two versions of a task spec, as a process owner says them.
ATTRIBUTE_LABELS = {
    "extensions": "属性（表单、期限、角色等）", "outputs": "后续连线", "inputs": "前置连线", "bpmn_name": "名称",
    "lane": "泳道", "cond_task_specs": "条件", "default_task_spec": "默认出口", "script": "脚本",
    "event_definition": "事件定义", "typename": "类型", "documentation": "说明", "prescript": "前置脚本",
    "postscript": "后置脚本",
}


@dataclass(frozen=True)
class StepRef:
    """A step an instance is at: a ready user task or a waiting event."""

    bpmn_id: str
    name: str


@dataclass(frozen=True)
class Candidate:
    """A not yet ended instance on an older version, with where it stands."""

    instance_id: int
    title: str
    version: int
    status: str
    started_by: str
    unit_name: str
    steps: list[StepRef]


@dataclass(frozen=True)
class MigrationPreview:
    """What moving one instance would do, or why it cannot move."""

    instance_id: int
    title: str
    from_version: int
    to_version: int
    can_migrate: bool
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    steps_before: list[StepRef] = field(default_factory=list)
    steps_after: list[StepRef] = field(default_factory=list)


@dataclass(frozen=True)
class MigrationResult:
    """The outcome for one instance of a bulk migration."""

    instance_id: int
    migrated: bool
    message: str
    from_version: int | None = None
    to_version: int | None = None


# --- choosing -------------------------------------------------------------------------------------------------


def migration_candidates(
    session: Session, runtime: ProcessRuntime, process_key: str, *, to_version: int | None = None,
    from_version: int | None = None, at_step: str | None = None,
) -> list[Candidate]:
    """Instances not yet ended on versions older than ``to_version`` (default: the newest), oldest first.

    ``from_version`` keeps one version only; ``at_step`` keeps those at that step (bpmn id of a user task or of a
    waiting event such as ``wait_conference_start``).
    """
    target = _target(session, process_key, to_version)
    query = (select(Instance).join(ProcessVersion, Instance.version_id == ProcessVersion.id)
             .where(Instance.process_key == process_key, Instance.status.not_in(ENDED),
                    ProcessVersion.version < target.version).order_by(Instance.id))
    if from_version is not None:
        query = query.where(ProcessVersion.version == from_version)
    calendar = load_calendar(session)
    found = []
    for instance in session.scalars(query):
        steps = current_steps(load_workflow(runtime, instance, calendar))
        if at_step is None or any(step.bpmn_id == at_step for step in steps):
            found.append(Candidate(instance.id, instance.title, instance.version.version, instance.status,
                                   instance.started_by, instance.unit.name, steps))
    return found


def current_steps(workflow: BpmnWorkflow) -> list[StepRef]:
    """Where a workflow stands: its ready user tasks and the events it waits for."""
    steps = []
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR):
        spec = task.task_spec
        waits = task.state == TaskState.WAITING and getattr(spec, "event_definition", None) is not None
        if spec.bpmn_id and (spec.manual or waits or task.state == TaskState.ERROR):
            steps.append(StepRef(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id))
    return steps


# --- previewing and migrating ---------------------------------------------------------------------------------


def preview_migration(
    session: Session, runtime: ProcessRuntime, actor: User, process_key: str, instance_ids: Iterable[int],
    to_version: int | None = None,
) -> list[MigrationPreview]:
    """Simulate moving each instance to ``to_version`` (default: the newest) without saving anything."""
    _require_model_owner(actor)
    target = _target(session, process_key, to_version)
    model, calendar = model_of(runtime, target), load_calendar(session)
    previews = []
    for instance_id in instance_ids:
        instance = session.get(Instance, instance_id)
        if instance is None:
            previews.append(MigrationPreview(instance_id, "", 0, target.version, False, ["申请不存在"]))
            continue
        previews.append(_simulate(runtime, instance, target, model, calendar)[1])
    session.rollback()  # a read only pass: end the transaction
    return previews


def migrate_instances(
    session: Session, runtime: ProcessRuntime, actor: User, process_key: str, instance_ids: Iterable[int],
    to_version: int | None = None, note: str = "",
) -> list[MigrationResult]:
    """Move each instance to ``to_version`` (default: the newest), each in its own unit of work. Commits.

    An instance that cannot move is left exactly as it was and reported with the reason; the others still move.
    """
    _require_model_owner(actor)
    target = _target(session, process_key, to_version)
    model = model_of(runtime, target)
    target_id, target_number = target.id, target.version
    session.rollback()
    results = []
    for instance_id in instance_ids:
        try:
            results.append(_migrate_one(session, runtime, actor, instance_id, target_id, model, note))
        except PressflowError as exc:
            results.append(MigrationResult(instance_id, False, exc.message, to_version=target_number))
        except Exception as exc:  # noqa: BLE001 - one broken instance must not stop the batch
            log.exception("migration of instance %s failed", instance_id)
            results.append(MigrationResult(instance_id, False, f"迁移失败：{type(exc).__name__}: {exc}",
                                           to_version=target_number))
    return results


def _migrate_one(
    session: Session, runtime: ProcessRuntime, actor: User, instance_id: int, target_id: int, model: ParsedModel,
    note: str,
) -> MigrationResult:
    with unit_of_work(session):
        instance = require_instance(session, instance_id)
        target = session.get(ProcessVersion, target_id)
        if target is None:
            raise NotFound("目标版本不存在")
        calendar = load_calendar(session)
        before = {info.task_id: info for info in runtime.ready_human_tasks(
            load_workflow(runtime, instance, calendar))}
        workflow, preview = _simulate(runtime, instance, target, model, calendar)
        if workflow is None:
            raise Conflict("；".join(preview.reasons))
        instance.version_id, instance.version = target.id, target
        save_workflow(session, runtime, instance, workflow, calendar)
        _refresh_open_rows(session, instance, before, runtime.ready_human_tasks(workflow), calendar)
        comment = f"从第 {preview.from_version} 版迁移到第 {preview.to_version} 版" + (f"：{note}" if note else "")
        audit(session, instance, actor.username, "migrate", comment=note or None, data_changed={
            "from_version": preview.from_version, "to_version": preview.to_version,
            "steps": [step.bpmn_id for step in preview.steps_after],
        })
    return MigrationResult(instance_id, True, comment, preview.from_version, preview.to_version)


def _simulate(
    runtime: ProcessRuntime, instance: Instance, target: ProcessVersion, model: ParsedModel, calendar: WorkCalendar,
) -> tuple[BpmnWorkflow | None, MigrationPreview]:
    """Move the instance's workflow in memory; return it (None if it cannot move) and what the move means."""
    refused = MigrationPreview(instance.id, instance.title, instance.version.version, target.version, False)
    reasons = _instance_reasons(instance, target)
    if reasons:
        return None, replace(refused, reasons=reasons)
    workflow = load_workflow(runtime, instance, calendar)
    before = current_steps(workflow)
    top, subprocess_diffs = runtime.diff(workflow, model)
    reasons = _diff_reasons(top, subprocess_diffs, target.version)
    changes = _changes(top, model, before, workflow)
    if not reasons:
        try:
            _move(runtime, workflow, model, top, subprocess_diffs, calendar)
        except Exception as exc:  # noqa: BLE001 - whatever the library trips over, the instance stays as it was
            log.warning("simulated migration of instance %s failed", instance.id, exc_info=True)
            reasons.append(f"迁移时出错：{type(exc).__name__}: {exc}")
    if reasons:
        return None, replace(refused, reasons=reasons, changes=changes, steps_before=before, steps_after=before)
    return workflow, replace(refused, can_migrate=True, changes=changes, steps_before=before,
                             steps_after=current_steps(workflow))


def _move(runtime: ProcessRuntime, workflow: BpmnWorkflow, model: ParsedModel, top: Any,
          subprocess_diffs: dict[Any, Any], calendar: WorkCalendar) -> None:
    migrate_workflow(top, workflow, model.spec)
    for subprocess_id, diff in subprocess_diffs.items():
        subprocess = workflow.subprocesses[subprocess_id]
        migrate_workflow(diff, subprocess, model.subprocess_specs[subprocess.spec.name])
    workflow.subprocess_specs = model.subprocess_specs
    runtime.advance(workflow)
    stray = [t.task_spec.bpmn_id or t.task_spec.name for t in workflow.get_tasks()
             if t.workflow.spec.task_specs.get(t.task_spec.name) is not t.task_spec]
    if stray:
        raise Conflict(f"以下环节在新版本中没有对应：{'、'.join(dict.fromkeys(stray))}")
    runtime.load(model, runtime.dump(workflow), calendar)  # it must also come back from the database


def _instance_reasons(instance: Instance, target: ProcessVersion) -> list[str]:
    if instance.process_key != target.process_key:
        return [f"不是流程 {target.process_key} 的申请"]
    if instance.status not in MOVABLE:
        return [STATUS_REASONS.get(instance.status, f"申请状态为 {instance.status}")]
    if instance.version.version >= target.version:
        return [f"申请已在第 {instance.version.version} 版，只能迁移到更新的版本"]
    return []


def _diff_reasons(top: Any, subprocess_diffs: dict[Any, Any], number: int) -> list[str]:
    reasons = []
    for task in top.removed:
        name = task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name
        if task.has_state(ACTIVE):
            reasons.append(f"当前环节“{name}”在第 {number} 版中已删除")
        elif task.has_state(TaskState.COMPLETED):
            reasons.append(f"已办理的环节“{name}”在第 {number} 版中已删除，办理记录无法对应")
    reasons.extend(f"子流程 {sp_id} 在第 {number} 版中已删除" for sp_id, diff in subprocess_diffs.items()
                   if diff is None)
    return list(dict.fromkeys(reasons))


def _changes(top: Any, model: ParsedModel, before: list[StepRef], workflow: BpmnWorkflow) -> list[str]:
    changes = []
    current = {step.bpmn_id for step in before}
    for task in top.changed:
        spec = task.task_spec
        if spec.bpmn_id in current:
            changes.append(f"当前环节“{spec.bpmn_name or spec.bpmn_id}”有变化：{_changed_attributes(task, model)}")
    known = set(workflow.spec.task_specs)
    for name, spec in model.spec.task_specs.items():
        if name not in known and spec.bpmn_id:
            changes.append(f"新增环节“{spec.bpmn_name or spec.bpmn_id}”（之后可能经过）")
    return list(dict.fromkeys(changes))


def _changed_attributes(task: Any, model: ParsedModel) -> str:
    new_spec = model.spec.task_specs.get(task.task_spec.name)
    if new_spec is None:
        return "已调整"
    names = [key for key in ("bpmn_name", "extensions", "lane", "inputs", "outputs", "cond_task_specs",
                             "default_task_spec", "script", "prescript", "postscript", "event_definition")
             if _attribute(task.task_spec, key) != _attribute(new_spec, key)]
    return "、".join(ATTRIBUTE_LABELS.get(n, n) for n in names) or "已调整"


def _attribute(spec: Any, key: str) -> Any:
    value = getattr(spec, key, None)
    if key in ("inputs", "outputs"):
        return sorted(s.name for s in value or [])
    if key == "cond_task_specs":
        return sorted((c.get("condition") or "", c.get("task_spec") or "") for c in value or [])
    if key == "event_definition":
        return repr(getattr(value, "expression", value)) if value is not None else None
    return value


def _refresh_open_rows(
    session: Session, instance: Instance, before: dict[str, HumanTaskInfo], after: list[HumanTaskInfo],
    calendar: WorkCalendar,
) -> None:
    """Bring open inbox rows of tasks that kept their id in line with the new version's step definition."""
    rows = {row.spiff_task_id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)))}
    for info in after:
        row, old = rows.get(info.task_id), before.get(info.task_id)
        if row is None or old is None:
            continue
        row.name, row.form_key = info.name, info.form_key
        if row.candidate_roles != info.candidate_roles:
            row.candidate_roles = info.candidate_roles
            office_task = bool(info.candidate_roles) and all(r in OFFICE_ROLES for r in info.candidate_roles)
            row.unit_id = office_unit(session).id if office_task else instance.unit_id
        if old.due_in_workdays != info.due_in_workdays:
            row.due_at, row.due_provisional = calendar.due_at(row.created_at, info.due_in_workdays)


def _target(session: Session, process_key: str, number: int | None) -> ProcessVersion:
    if number is not None:
        return get_version(session, process_key, number)
    newest = latest_version(session, process_key)
    if newest is None:
        raise NotFound(f"流程 {process_key} 不存在")
    return newest


def _require_model_owner(actor: User) -> None:
    if not may_model(actor):
        raise Forbidden("只有流程管理员或系统管理员可以迁移申请")
