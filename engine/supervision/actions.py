"""What supervisors (督办) do to an instance's process state: 催办, 改派, 挂起 / 恢复 / 终止, 修复数据并重试, 回退.

Each public action is one unit of work: it checks that the actor oversees (supervisor or admin), requires a reason,
locks the instance, acts, and writes one audit entry naming the supervisor. Supervisors move process state; they
never complete a step for anyone.
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import json
import keyword
import re
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditEntry, HumanTask, Instance, RoleGrant, User
from engine.org.access import is_overseer
from engine.review import reviewing
from engine.review.notify import notify, task_audience
from engine.review.reviewing import Step, returnable_steps
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.scripting import script_functions
from engine.workflow.uow import audit, record_end, record_incident, require_instance, save_workflow, unit_of_work

SUSPENDABLE = ("running", "waiting")
TERMINABLE = ("running", "waiting", "suspended", "error")
REASSIGNABLE = ("running", "waiting", "suspended", "error")
MOVABLE = ("running", "waiting", "error")
MAX_REASON = 2000
MAX_VALUE = 2000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Names a failing expression may use that are not data: Python's own and the helpers scripts can call.
_NOT_DATA = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(script_functions(WorkCalendar()))


# --- 催办, 挂起, 恢复, 终止 --------------------------------------------------------------------------


def urge(session: Session, actor: User, instance_id: int, reason: str) -> int:
    """催办 as a supervisor: remind whoever holds the open steps; return how many steps were reminded."""
    _require_overseer(actor)
    return reviewing.urge(session, actor, instance_id, _reason(reason, "催办"))


def suspend(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    """挂起: stop the instance (no timer fires, nobody can act) until it is resumed."""
    _require_overseer(actor)
    note = _reason(reason, "挂起")
    with unit_of_work(session):
        instance = _locked(session, instance_id, SUSPENDABLE, "只有办理中或等待中的申请可以挂起")
        previous, timer = instance.status, instance.next_timer_at
        instance.status, instance.next_timer_at, instance.updated_at = "suspended", None, clock.now()
        audit(session, instance, actor.username, "suspend", comment=note,
              data_changed={"previous_status": previous,
                            "next_timer_at": timer.isoformat() if timer is not None else None})
    return instance


def resume(session: Session, runtime: ProcessRuntime, actor: User, instance_id: int, reason: str) -> Instance:
    """恢复: put a suspended instance back in the state it was suspended from, its timers armed again."""
    _require_overseer(actor)
    note = _reason(reason, "恢复")
    with unit_of_work(session):
        instance = _locked(session, instance_id, ("suspended",), "只有已挂起的申请可以恢复")
        calendar = load_calendar(session)
        workflow = load_workflow(runtime, instance, calendar)
        instance.next_timer_at = runtime.next_timer_at(workflow)
        suspension = _last_suspension(session, instance)
        instance.status = _previous_status(suspension) or (
            "running" if runtime.ready_human_tasks(workflow) or instance.next_timer_at is None else "waiting")
        instance.updated_at = clock.now()
        moved = _pause_deadlines(_open_rows(session, instance), calendar, suspension, instance.updated_at)
        audit(session, instance, actor.username, "resume", comment=note,
              data_changed={"status": instance.status, "deadlines": moved})
    return instance


def _pause_deadlines(rows: list[HumanTask], calendar: WorkCalendar, suspension: AuditEntry | None,
                     now: dt.datetime) -> dict[str, list[str]]:
    """Give the open steps back the working days the suspension took; return task id → [old, new] deadlines."""
    moved: dict[str, list[str]] = {}
    if suspension is None:
        return moved
    for row in rows:
        if row.due_at is None:
            continue
        due_at, provisional = _after_pause(row.due_at, row.due_hours, calendar, suspension.at, now)
        if due_at != row.due_at:
            moved[row.id] = [row.due_at.isoformat(), due_at.isoformat()]
            row.due_at, row.due_provisional = due_at, row.due_provisional or provisional
    return moved


def _after_pause(due_at: dt.datetime, due_hours: int | None, calendar: WorkCalendar, paused_at: dt.datetime,
                 resumed_at: dt.datetime) -> tuple[dt.datetime, bool]:
    # An hour deadline (dueInHours) gets back the wall-clock time still left when it was paused.
    if not due_hours:
        return calendar.deadline_after_pause(due_at, paused_at, resumed_at)
    if due_at <= paused_at:
        return due_at, False
    return resumed_at + (due_at - paused_at), False


def terminate(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    """终止: end the instance for good; its open steps are closed and the applicant is told why."""
    _require_overseer(actor)
    note = _reason(reason, "终止")
    with unit_of_work(session):
        instance = _locked(session, instance_id, TERMINABLE, "已办结或已终止的申请不能终止")
        previous, now = instance.status, clock.now()
        open_rows = _open_rows(session, instance)
        audience = [user for row in open_rows for user in task_audience(session, row)]
        for row in open_rows:
            row.completed_at, row.closed_reason = now, "terminated"
        instance.status, instance.outcome, instance.ended_at = "terminated", "terminated", now
        instance.next_timer_at, instance.updated_at = None, now
        audit(session, instance, actor.username, "terminate", comment=note,
              data_changed={"previous_status": previous, "closed_tasks": [r.id for r in open_rows]})
        applicant = session.scalars(select(User).where(User.username == instance.started_by)).all()
        notify(session, [*applicant, *audience], "ended", note, instance, event="terminated",
               params={"actor": actor.display_name}, actor=actor)
    return instance


# --- 改派 --------------------------------------------------------------------------------------------


def reassign_candidates(session: Session, task: HumanTask) -> list[User]:
    """Users a supervisor may hand the task to: active holders of one of its roles in its unit, not the holder."""
    users = session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.unit_id == task.unit_id, RoleGrant.role.in_(task.candidate_roles), User.active.is_(True))
        .order_by(User.username))
    return [u for u in dict.fromkeys(users) if u.username != task.assignee]


def reassign(session: Session, actor: User, task_id: str, to_username: str, reason: str) -> HumanTask:
    """改派: give an open task to another eligible user; unlike 转办 the supervisor acts, not the holder."""
    _require_overseer(actor)
    note = _reason(reason, "改派")
    with unit_of_work(session):
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound("任务不存在或无权查看")
        instance = _locked(session, task.instance_id, REASSIGNABLE, "已办结或已终止的申请不能改派")
        session.refresh(task)
        if not task.is_open:
            raise Conflict("该任务已办理或已关闭，不能改派")
        target = next((u for u in reassign_candidates(session, task) if u.username == to_username), None)
        if target is None:
            raise InvalidInput("不能改派给该用户", fields={"to": ["只能改派给在该单位具有此环节角色的其他人员"]})
        previous = task.assignee
        task.assignee, task.opened_at, task.opened_by = target.username, None, None
        audit(session, instance, actor.username, "reassign", task_id=task.id, task_name=task.name,
              bpmn_id=task.bpmn_id, comment=note, on_behalf_of=target.username,
              data_changed={"from": previous, "to": target.username})
        params = {"step": task.name, "actor": actor.display_name, "target": target.display_name}
        notify(session, [target], "transferred", note, instance, task, event="reassigned", params=params,
               actor=actor)
        earlier = session.scalars(select(User).where(User.username == previous)).all() if previous else []
        notify(session, list(earlier), "transferred", note, instance, task, event="reassigned_away", params=params,
               actor=actor)
    return task


# --- 修复数据并重试 ------------------------------------------------------------------------------------


def retry_names(session: Session, runtime: ProcessRuntime, instance: Instance) -> tuple[dict[str, Any], list[str]]:
    """The data a retry may set: the failing expression's names with their values now, and the other names."""
    if instance.status != "error" or not instance.state:
        return {}, []
    workflow = load_workflow(runtime, instance, load_calendar(session))
    failed = _failed_task(runtime, workflow, instance)
    if failed is None:
        return {}, []
    named = {name: failed.data.get(name) for name in _expression_names(failed, instance.incident or {})}
    existing = sorted((set(failed.data) | set(workflow.data)) - set(named))
    return named, [name for name in existing if not name.startswith("_") and name not in _NOT_DATA]


def retry(session: Session, runtime: ProcessRuntime, actor: User, instance_id: int, values: Mapping[str, Any],
          reason: str) -> Instance:
    """修复数据并重试: merge corrected values into the failed step's data and run it again."""
    _require_overseer(actor)
    note = _reason(reason, "重试")
    with unit_of_work(session):
        instance = _locked(session, instance_id, ("error",), "只有异常状态的申请可以修复重试")
        calendar = load_calendar(session)
        workflow = load_workflow(runtime, instance, calendar)
        failed = _failed_task(runtime, workflow, instance)
        if failed is None:
            raise Conflict("没有找到出错的环节，无法重试")
        allowed = set(_expression_names(failed, instance.incident or {})) | set(failed.data) | set(workflow.data)
        fixed = parse_values(values, allowed)
        step = failed.task_spec.bpmn_name or failed.task_spec.bpmn_id
        # The trail reads in cause order: the retry first, then the end or the new incident it led to.
        audit(session, instance, actor.username, "retry", bpmn_id=failed.task_spec.bpmn_id, task_name=step,
              comment=note, data_changed=fixed)
        failed.set_data(**fixed)
        instance.incident = None
        try:
            if failed.state == TaskState.ERROR:
                failed.run()
            else:  # a timer that could not work out its time: have it evaluate its expression again
                failed.task_spec._update(failed)
            runtime.advance(workflow)
        except Exception as exc:  # noqa: BLE001 - a script error is a new incident, not a failed request
            record_incident(session, instance, exc, actor.username)
        save_workflow(session, runtime, instance, workflow, calendar, actor=actor.username)
        record_end(session, instance, actor.username)
    return instance


def parse_values(values: Mapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Validate corrected data: known names only, each a string, number, true/false or null (JSON-ish text)."""
    fixed: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, raw in values.items():
        if not _IDENTIFIER.fullmatch(name) or name.startswith("_") or name in _NOT_DATA or name not in allowed:
            problems[name] = ["只能修改流程数据中已有的变量或出错表达式中用到的变量"]
            continue
        value = _scalar(raw)
        if value is _INVALID:
            problems[name] = [f"值须为文本、数字、true/false 或 null，且不超过 {MAX_VALUE} 个字符"]
        else:
            fixed[name] = value
    if problems:
        raise InvalidInput("修复的数据有误", fields=problems)
    return fixed


_INVALID = object()


def _scalar(raw: Any) -> Any:
    if isinstance(raw, str):
        if len(raw) > MAX_VALUE:
            return _INVALID
        try:
            raw = json.loads(raw)
        except ValueError:
            return raw  # plain text (a date, a name) needs no quotes
    if raw is None or isinstance(raw, bool | int | str):
        return raw
    if isinstance(raw, float) and raw == raw and abs(raw) != float("inf"):
        return raw
    return _INVALID


def _failed_task(runtime: ProcessRuntime, workflow: Any, instance: Instance) -> SpiffTask | None:
    incident = instance.incident or {}
    task = runtime.task(workflow, incident["task_id"]) if incident.get("task_id") else None
    # A timer whose expression failed stays FUTURE rather than ERROR: it is retried all the same.
    if task is not None and not task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
        return task
    failed = workflow.get_tasks(state=TaskState.ERROR)
    return failed[0] if failed else None


def _expression_names(task: SpiffTask, incident: Mapping[str, Any]) -> list[str]:
    spec = task.task_spec
    timer = getattr(spec, "event_definition", None)
    texts = [getattr(spec, "script", None) or "", incident.get("error_line") or "", getattr(timer, "expression", "")]
    texts += [condition.args[0] for condition, _ in getattr(spec, "cond_task_specs", ()) if condition is not None]
    names: dict[str, None] = {}
    for text in texts:
        names.update(dict.fromkeys(_names_in(text)))
    return [name for name in names if name not in _NOT_DATA and not name.startswith("_")]


def _names_in(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return _IDENTIFIER.findall(text)
    return [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]


# --- 回退 --------------------------------------------------------------------------------------------


def move_back_targets(session: Session, runtime: ProcessRuntime, instance: Instance) -> list[Step]:
    """The completed human steps the instance can be moved back to, earliest first."""
    if instance.status not in MOVABLE:
        return []
    steps: dict[str, Step] = {}
    for cursor in _cursors(session, runtime, instance):
        steps.update((step.row_id, step) for step in returnable_steps(session, runtime, cursor))
    return sorted(steps.values(), key=lambda s: s.completed_at or clock.now())


def move_back(session: Session, runtime: ProcessRuntime, actor: User, instance_id: int, target_row_id: str,
              reason: str) -> Instance:
    """回退: move the instance back to an earlier completed step; its holder gets it again, with the reason."""
    _require_overseer(actor)
    note = _reason(reason, "回退")
    with unit_of_work(session):
        instance = _locked(session, instance_id, MOVABLE, "只有办理中、等待中或异常的申请可以回退")
        cursor = next((c for c in _cursors(session, runtime, instance)
                       if any(s.row_id == target_row_id for s in returnable_steps(session, runtime, c))), None)
        target = session.get(HumanTask, target_row_id) if cursor is not None else None
        if cursor is None or target is None:
            raise InvalidInput("不能回退到该步骤", fields={"target": ["只能回退到本申请已办理过的前序步骤"]})
        incident, instance.incident = instance.incident, None
        reviewing._reset(session, runtime, instance, cursor, target, actor, note, "moved_back")
        if instance.status == "error":  # the failed step is still in the way
            instance.incident = incident
        audit(session, instance, actor.username, "move_back", task_id=target.id, task_name=target.name,
              bpmn_id=target.bpmn_id, comment=note)
    return instance


def _cursors(session: Session, runtime: ProcessRuntime, instance: Instance) -> list[HumanTask]:
    """Where the instance stands now: its open task rows, else the failed or waiting engine steps."""
    rows = _open_rows(session, instance)
    if rows:
        return rows
    workflow = load_workflow(runtime, instance, load_calendar(session))
    stuck = workflow.get_tasks(state=TaskState.ERROR) or workflow.get_tasks(state=TaskState.WAITING)
    # Never added to the session: a stand-in so returnable_steps and the reset can start from an engine step.
    return [HumanTask(spiff_task_id=str(t.id), instance_id=instance.id, instance=instance, name="", bpmn_id="",
                      form_key="", candidate_roles=[], unit_id=instance.unit_id) for t in stuck]


# --- shared ------------------------------------------------------------------------------------------


def _require_overseer(actor: User) -> None:
    if not is_overseer(actor):
        raise Forbidden("只有督办人员或系统管理员可以执行督办操作")


def _reason(reason: str | None, action: str) -> str:
    note = (reason or "").strip()
    if not note:
        raise InvalidInput(f"{action}须填写理由", fields={"reason": [f"请填写{action}理由"]})
    if len(note) > MAX_REASON:
        raise InvalidInput(f"{action}理由过长", fields={"reason": [f"理由不超过 {MAX_REASON} 个字符"]})
    return note


def _locked(session: Session, instance_id: int, allowed: tuple[str, ...], refusal: str) -> Instance:
    instance = require_instance(session, instance_id)
    if instance.status not in allowed:
        raise Conflict(refusal)
    return instance


def _open_rows(session: Session, instance: Instance) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)).order_by(HumanTask.created_at)))


def _last_suspension(session: Session, instance: Instance) -> AuditEntry | None:
    return session.scalar(select(AuditEntry).where(
        AuditEntry.instance_id == instance.id, AuditEntry.action == "suspend")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1))


def _previous_status(suspension: AuditEntry | None) -> str | None:
    previous = ((suspension.data_changed if suspension else None) or {}).get("previous_status")
    return previous if previous in SUSPENDABLE else None
