"""What reviewers do besides completing a form: 退回 to an earlier step, 撤回, 转办, 催办, comments, opening a task."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditEntry, Comment, HumanTask, Instance, RoleGrant, User
from engine.org.access import acting_for, can_act, is_overseer, require_can_act, require_visible
from engine.review.delegation import load_delegations
from engine.review.notify import mark_task_notices_read, notify, task_audience
from engine.review.signing import require_holder_row
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import SendBack, audit, require_instance, save_workflow, unit_of_work

URGE_INTERVAL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    """An earlier completed step a task may be sent back to."""

    row_id: str
    bpmn_id: str
    name: str
    completed_by: str | None
    completed_at: dt.datetime | None


def mark_opened(session: Session, actor: User, task_id: str) -> HumanTask:
    """Record that someone who may act on the task has opened it: from then on it can no longer be withdrawn."""
    with unit_of_work(session):
        load_delegations(session, actor)
        task = _visible_task(session, actor, task_id)
        if task.is_open and task.opened_at is None and can_act(actor, task):
            task.opened_at, task.opened_by = clock.now(), actor.username
        mark_task_notices_read(session, actor, task.id)
    return task


def returnable_steps(session: Session, runtime: ProcessRuntime, task: HumanTask) -> list[Step]:
    """The completed human steps on the path that led to this task, each step once (its latest run), earliest first.

    A step the path ran more than once (a decision looped back through it) is listed once, and never the task's
    own step: sending a task back to itself would only reopen it.
    """
    instance = task.instance
    workflow = load_workflow(runtime, instance, load_calendar(session))
    current = runtime.task(workflow, task.spiff_task_id)
    if current is None:
        return []
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.closed_reason == "completed").order_by(HumanTask.completed_at))
    latest: dict[str, HumanTask] = {}
    for row in rows:
        spiff = runtime.task(workflow, row.spiff_task_id)
        if (spiff is not None and spiff.state == TaskState.COMPLETED and current.is_descendant_of(spiff)
                and row.bpmn_id != task.bpmn_id):
            latest.pop(row.bpmn_id, None)  # re-insert so the order follows the latest run
            latest[row.bpmn_id] = row
    steps = sorted(latest.values(), key=lambda r: r.completed_at or clock.now())
    return [Step(r.id, r.bpmn_id, r.name, r.completed_by, r.completed_at) for r in steps]


def return_to(session: Session, runtime: ProcessRuntime, actor: User, task_id: str, comment: str,
              target_row_id: str | None = None) -> Instance:
    """退回: send the application back to an earlier step of its path (default: the applicant's), with a reason."""
    with unit_of_work(session):
        load_delegations(session, actor)
        task, instance = _open_for_action(session, actor, task_id)
        require_can_act(actor, task)
        require_holder_row(task)
        send_back(session, runtime, actor, task, instance, comment, target_row_id)
    return instance


def send_back(session: Session, runtime: ProcessRuntime, actor: User, task: HumanTask, instance: Instance,
              comment: str, target_row_id: str | None = None, steps: list[Step] | None = None) -> None:
    """退回 inside the caller's unit of work: the 退回 panel and a review's 退回修改 decision both come here."""
    if not comment.strip():
        raise InvalidInput("退回须填写理由", fields={"comment": ["请填写退回理由"]})
    steps = returnable_steps(session, runtime, task) if steps is None else steps
    if not steps:
        raise Conflict("此环节之前没有可退回的步骤")
    target = next((s for s in steps if s.row_id == target_row_id), None) if target_row_id else steps[0]
    if target is None:
        raise InvalidInput("不能退回到该步骤", fields={"target": ["只能退回到本申请已办理过的前序步骤"]})
    target_row = session.get(HumanTask, target.row_id)
    assert target_row is not None  # noqa: S101 - listed by returnable_steps a moment ago
    _reset(session, runtime, instance, task, target_row, actor, comment.strip(), "returned")
    audit(session, instance, actor.username, "return", task_id=task.id, task_name=task.name,
          bpmn_id=task.bpmn_id, comment=comment.strip(), data_changed={"target": target.name},
          on_behalf_of=acting_for(actor, task))


def withdraw(session: Session, runtime: ProcessRuntime, actor: User, instance_id: int, comment: str = "") -> Instance:
    """撤回: take back one's last submission while nobody has opened or claimed the step it went to."""
    with unit_of_work(session):
        instance = require_visible(actor, session.get(Instance, instance_id))
        instance = require_instance(session, instance.id)
        mine, open_rows = _withdrawal(session, actor, instance)
        _reset(session, runtime, instance, open_rows[0], mine, actor, comment.strip() or "申请人撤回", "withdrawn")
        audit(session, instance, actor.username, "withdraw", task_id=mine.id, task_name=mine.name,
              bpmn_id=mine.bpmn_id, comment=comment.strip() or None)
    return instance


def can_withdraw(session: Session, actor: User, instance: Instance) -> bool:
    """Tell whether the actor may withdraw (撤回) their last submission on the instance right now."""
    try:
        _withdrawal(session, actor, instance)
    except (Forbidden, Conflict):
        return False
    return True


def _withdrawal(session: Session, actor: User, instance: Instance) -> tuple[HumanTask, list[HumanTask]]:
    """The actor's last submission and the open steps it led to, or raise why it cannot be withdrawn."""
    if instance.status not in ("running",):
        raise Conflict("申请当前不能撤回")
    # The audit trail orders submissions exactly; task rows completed in the same instant would tie.
    last = session.scalar(select(AuditEntry.task_id).where(
        AuditEntry.instance_id == instance.id, AuditEntry.action == "complete")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1))
    mine = session.get(HumanTask, last) if last else None
    if mine is None or mine.closed_reason != "completed" or actor.username not in (mine.completed_by,
                                                                                   mine.on_behalf_of):
        raise Forbidden("只能撤回自己最近一次提交的办理")
    open_rows = _open_rows(session, instance)
    if not open_rows:
        raise Conflict("没有可撤回的待办")
    if any(r.returned_by for r in open_rows):
        # The open step was reopened by 退回 or 撤回, not reached by that submission: there is nothing to take back.
        raise Conflict("申请已被退回或撤回，当前没有可撤回的提交")
    if any(r.opened_at is not None or _claimed(session, r) for r in open_rows):
        raise Conflict("下一环节已查看或认领，不能撤回；如需修改请联系其退回")
    return mine, open_rows


def transfer(session: Session, actor: User, task_id: str, to_username: str, reason: str) -> HumanTask:
    """转办: hand the task to another user who holds the same role in that unit."""
    if not reason.strip():
        raise InvalidInput("转办须填写理由", fields={"reason": ["请填写转办理由"]})
    with unit_of_work(session):
        load_delegations(session, actor)
        task, instance = _open_for_action(session, actor, task_id)
        require_can_act(actor, task)
        require_holder_row(task)
        target = session.scalar(select(User).where(User.username == to_username, User.active.is_(True)))
        if target is None or target.id == actor.id or not any(target.holds(r, task.unit_id)
                                                              for r in task.candidate_roles):
            raise InvalidInput("不能转办给该用户", fields={"to": ["只能转办给本单位具有相同角色的其他人员"]})
        task.assignee, task.opened_at, task.opened_by = target.username, None, None
        audit(session, instance, actor.username, "transfer", task_id=task.id, task_name=task.name,
              bpmn_id=task.bpmn_id, comment=reason.strip(), on_behalf_of=target.username)
        notify(session, [target], "transferred", reason.strip(), instance, task, event="transferred",
               params={"step": task.name, "actor": actor.display_name}, actor=actor)
    return task


def transfer_candidates(session: Session, actor: User, task: HumanTask) -> list[User]:
    """Users a task may be transferred to: same role, same unit, not the actor."""
    users = session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.unit_id == task.unit_id, RoleGrant.role.in_(task.candidate_roles), User.active.is_(True),
        User.id != actor.id).order_by(User.username))
    return list(dict.fromkeys(users))


def urge(session: Session, actor: User, instance_id: int, comment: str = "") -> int:
    """催办: remind whoever holds the open steps; the applicant or a supervisor may, once an hour."""
    with unit_of_work(session):
        instance = require_visible(actor, session.get(Instance, instance_id))
        if not (is_overseer(actor) or actor.username == instance.started_by):
            raise Forbidden("只有申请人或督办人员可以催办")
        instance = require_instance(session, instance.id)
        last = session.scalar(select(AuditEntry.at).where(
            AuditEntry.instance_id == instance.id, AuditEntry.action == "urge", AuditEntry.actor == actor.username)
            .order_by(AuditEntry.at.desc()).limit(1))
        if last is not None and clock.now() - last < URGE_INTERVAL:
            raise Conflict("一小时内已催办过，请稍后再试")
        rows = _open_rows(session, instance)
        if not rows:
            raise Conflict("申请当前没有待办环节")
        load_delegations(session, actor)
        if only_own_steps(actor, rows):
            raise Conflict("当前待办环节由您本人办理（如尚未提交的申请），不能催办自己")
        note = comment.strip() or None
        for row in rows:
            notify(session, task_audience(session, row), "urge", note or "", instance, row, event="urge",
                   params={"step": row.name, "actor": actor.display_name}, actor=actor)
        audit(session, instance, actor.username, "urge", comment=note)
    return len(rows)


def only_own_steps(actor: User, rows: list[HumanTask]) -> bool:
    """Tell whether every open step is one the actor may act on themselves (催办 would remind only them)."""
    return bool(rows) and all(can_act(actor, row) for row in rows)


def add_comment(session: Session, actor: User, instance_id: int, body: str) -> Comment:
    """Add a message to the application's discussion and tell the other participants."""
    if not body.strip() or len(body) > 2000:
        raise InvalidInput("评论内容有误", fields={"body": ["评论须为 1–2000 个字符"]})
    with unit_of_work(session):
        instance = require_visible(actor, session.get(Instance, instance_id))
        comment = Comment(instance_id=instance.id, author=actor.username, body=body.strip(), created_at=clock.now())
        session.add(comment)
        names = set(session.scalars(select(HumanTask.completed_by).where(
            HumanTask.instance_id == instance.id, HumanTask.completed_by.is_not(None))))
        names |= {instance.started_by} | {c for c in session.scalars(
            select(Comment.author).where(Comment.instance_id == instance.id))}
        names.discard(actor.username)
        others = list(session.scalars(select(User).where(User.username.in_(names)))) if names else []
        notify(session, others, "comment", body.strip()[:80], instance, event="comment",
               params={"actor": actor.display_name}, actor=actor)
    return comment


def comments_of(session: Session, actor: User, instance_id: int) -> list[Comment]:
    """Return the application's discussion, oldest first."""
    require_visible(actor, session.get(Instance, instance_id))
    return list(session.scalars(select(Comment).where(Comment.instance_id == instance_id).order_by(Comment.id)))


def _reset(session: Session, runtime: ProcessRuntime, instance: Instance, current: HumanTask, target: HumanTask,
           actor: User, comment: str, reason: str) -> None:
    calendar = load_calendar(session)
    workflow = load_workflow(runtime, instance, calendar)
    spiff_current = runtime.task(workflow, current.spiff_task_id)
    spiff_target = runtime.task(workflow, target.spiff_task_id)
    if spiff_current is None or spiff_target is None:
        raise Conflict("申请已变化，请刷新后重试")
    # Everything entered so far goes back with it: the step returned to sees its previous values.
    workflow.reset_from_task_id(spiff_target.id, data=copy.deepcopy(spiff_current.data))
    runtime.advance(workflow)
    for row in _open_rows(session, instance):
        row.completed_at, row.closed_reason = clock.now(), reason
        if row.id == current.id:
            row.completed_by, row.decision = actor.username, "return" if reason == "returned" else None
    # The step belongs to whoever it was done for: a delegate's work goes back to the principal (who may still
    # let the delegate finish it), and save_workflow hands it to the role's queue if that person can no longer act.
    holder = target.on_behalf_of or target.completed_by
    save_workflow(session, runtime, instance, workflow, calendar,
                  send_back=SendBack(target.spiff_task_id, actor.username, comment, holder, reason),
                  actor=actor.username)


def _claimed(session: Session, row: HumanTask) -> bool:
    return session.scalar(select(AuditEntry.id).where(
        AuditEntry.task_id == row.id, AuditEntry.action.in_(("claim", "transfer"))).limit(1)) is not None


def _open_rows(session: Session, instance: Instance) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)).order_by(HumanTask.created_at)))


def _visible_task(session: Session, actor: User, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("任务不存在或无权查看")
    require_visible(actor, task.instance)
    return task


def _open_for_action(session: Session, actor: User, task_id: str) -> tuple[HumanTask, Instance]:
    task = _visible_task(session, actor, task_id)
    instance = require_instance(session, task.instance_id)
    session.refresh(task)
    if not task.is_open:
        raise Conflict("该任务已办理，不能重复操作")
    if instance.status in ("suspended", "terminated", "completed"):
        raise Conflict(f"申请当前状态为 {instance.status}，不能办理")
    return task, instance
