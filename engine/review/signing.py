"""加签 / 减签 / 委派: the holder of a step adds approvers to it, or lends it to a colleague and gets it back.

The process model is not changed. Each added approver gets a task row on the same SpiffWorkflow task, which stays
READY until the group is done (see :class:`engine.models.SignGroup`). The rules:

- 前加签 (before): the holder's row waits (等待加签人审批) until the group is decided, then it is his again.
- 后加签 (after): the holder decides first and his values are kept; then the added approvers act. If they agree the
  step completes with his values; if not it comes back to him, their opinions on the page, to decide again.
- 并加签 (parallel): holder and added approvers act at the same time; the step completes once the holder has decided
  and the group agrees (a disagreement brings it back to him, as above).
- 会签 (all): every added approver must agree, the first 不同意 decides the group;
  或签 (any): the first opinion decides.
- Added approvers give an opinion (同意 / 不同意 with 审批意见). They cannot 退回, 转办 or add others: the decision on
  the step stays with its holder, who reads their opinions and may 退回 the application himself.
- 委派 (delegate): one colleague fills in the step's own form; the values come back to the holder, who finishes it.

Added approvers must hold an approving role in the task's unit or in the Office, so that they may see the instance.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import HumanTask, Instance, SignGroup, User
from engine.org.access import OFFICE_ROLES, UNIT_ROLES, acting_for, require_can_act
from engine.org.units import office_unit
from engine.review.completion import finish_task, open_task, workflow_values
from engine.review.notify import notify
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.uow import audit, save_workflow, unit_of_work

MODES = {"before": "前加签", "after": "后加签", "parallel": "并加签"}
RULES = {"all": "会签", "any": "或签"}
DELEGATE = "delegate"
#: Roles that approve: everyone but the applicant's clerk, the overseers and the process owners.
SIGNER_ROLES = tuple(r for r in (*UNIT_ROLES, *OFFICE_ROLES) if r != "applicant")
MAX_SIGNERS = 10
MAX_COMMENT = 500


def add_signers(session: Session, actor: User, task_id: str, usernames: list[str], mode: str, rule: str,
                comment: str = "") -> SignGroup:
    """加签: add approvers before, after or alongside the actor on his open task, as 会签 or 或签."""
    if mode not in MODES:
        raise InvalidInput("加签方式无效", fields={"mode": ["请选择加签方式：前加签、后加签或并加签"]})
    if rule not in RULES:
        raise InvalidInput("会签或或签无效", fields={"rule": ["请选择会签（全部同意）或或签（一人同意）"]})
    names = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if not names:
        raise InvalidInput("请选择加签人", fields={"signers": ["请至少选择一位加签人"]})
    if len(names) > MAX_SIGNERS:
        raise InvalidInput("加签人过多", fields={"signers": [f"加签人不能超过 {MAX_SIGNERS} 位"]})
    _check_comment(comment, required=False)
    return _open_group(session, actor, task_id, names, mode, rule, comment.strip())


def delegate(session: Session, actor: User, task_id: str, username: str, comment: str) -> SignGroup:
    """委派: let a colleague fill in the step's form; it then comes back to the actor to finish."""
    if not username.strip():
        raise InvalidInput("请选择委派对象", fields={"to": ["请选择委派给谁"]})
    _check_comment(comment, required=True)
    return _open_group(session, actor, task_id, [username.strip()], DELEGATE, "all", comment.strip())


def remove_signer(session: Session, runtime: ProcessRuntime, actor: User, task_id: str, username: str,
                  comment: str = "") -> SignGroup:
    """减签: take back an added approver (or the colleague a task was 委派 to) who has not acted yet."""
    _check_comment(comment, required=False)
    with unit_of_work(session):
        task, instance = _holder_task(session, actor, task_id)
        group = open_group(session, task.id)
        if group is None:
            raise Conflict("本环节没有进行中的加签或委派")
        if username not in group.signers:
            raise InvalidInput("不能减签该用户", fields={"username": ["该用户不是本环节的加签人"]})
        rows = {r.assignee: r for r in _rows(session, group)}
        row = rows.get(username)
        if row is not None and row.closed_reason == "completed":
            raise Conflict("该加签人已办理，不能减签")
        if row is not None:
            row.completed_at, row.closed_reason = clock.now(), "removed"
        group.signers = [s for s in group.signers if s != username]
        instance.updated_at = clock.now()
        audit(session, instance, actor.username, "remove_sign", task_id=task.id, task_name=task.name,
              bpmn_id=task.bpmn_id, comment=comment.strip() or None,
              data_changed={"mode": group.mode, "signer": username})
        _settle(session, runtime, instance, group, task)
    return group


def handled(session: Session, runtime: ProcessRuntime, actor: User, task: HumanTask, instance: Instance,
            workflow: Any, calendar: WorkCalendar, values: dict[str, Any]) -> bool:
    """Take over a completion that 加签 concerns: an added approver's opinion, or the holder's decision to keep."""
    if task.sign_group_id is not None:
        _record_opinion(session, runtime, actor, task, instance, workflow, calendar, values)
        return True
    group = open_group(session, task.id)
    if group is None:
        return False
    if blocks_holder(group):
        raise Conflict("等待加签人审批，暂不能办理")
    _hold(session, actor, task, instance, group, values)
    return True


def open_group(session: Session, task_id: str) -> SignGroup | None:
    """The 加签 / 委派 of a holder's task that is still going on, if any."""
    return session.scalar(select(SignGroup).where(SignGroup.task_id == task_id, SignGroup.closed_at.is_(None))
                          .order_by(SignGroup.id.desc()).limit(1))


def blocks_holder(group: SignGroup) -> bool:
    """Tell whether the holder must wait: before 前加签 / 委派 ends, or once his decision is kept (后/并加签)."""
    return group.mode in ("before", DELEGATE) or group.held_values is not None


def waiting_on_signers(session: Session, task: HumanTask) -> bool:
    """Tell whether an open holder's task waits for added approvers (their own rows are the ones to act on)."""
    group = open_group(session, task.id) if task.is_open and task.sign_group_id is None else None
    return group is not None and blocks_holder(group)


def groups_of(session: Session, instance_id: int) -> list[SignGroup]:
    """Every 加签 / 委派 of an instance, oldest first."""
    return list(session.scalars(select(SignGroup).where(SignGroup.instance_id == instance_id)
                                .order_by(SignGroup.id)))


def rows_of(session: Session, group: SignGroup) -> list[HumanTask]:
    """The added approvers' task rows of a group, including those taken back (减签)."""
    return list(session.scalars(select(HumanTask).where(HumanTask.sign_group_id == group.id)
                                .order_by(HumanTask.created_at, HumanTask.id)))


def signer_candidates(session: Session, actor: User, task: HumanTask) -> list[User]:
    """People who may be added to the task: an approving role in its unit or the Office, not its holder."""
    units = {task.unit_id, office_unit(session).id}
    users = session.scalars(select(User).where(User.active.is_(True), User.id != actor.id).order_by(User.username))
    return [u for u in users if u.username != task.assignee and _signing_grant(u, units) is not None]


def _open_group(session: Session, actor: User, task_id: str, names: list[str], mode: str, rule: str,
                comment: str) -> SignGroup:
    with unit_of_work(session):
        task, instance = _holder_task(session, actor, task_id)
        if open_group(session, task.id) is not None:
            raise Conflict("本环节已有加签或委派尚未完成，请等待其完成或先减签")
        users = _signers(session, actor, task, names)
        # Whoever adds approvers holds the step (it comes back to him, not to his role's queue) and has opened it,
        # so the applicant can no longer withdraw (撤回) from under the added approvers.
        task.assignee = task.assignee or acting_for(actor, task) or actor.username
        task.opened_at, task.opened_by = task.opened_at or clock.now(), task.opened_by or actor.username
        group = SignGroup(instance_id=instance.id, task_id=task.id, mode=mode, rule=rule, added_by=actor.username,
                          signers=names, created_at=clock.now())
        session.add(group)
        instance.updated_at = clock.now()  # bumps the instance's version: a racing action on it loses cleanly
        session.flush()
        if mode != "after":
            _create_rows(session, instance, task, group, users, actor)
        action = "delegate" if mode == DELEGATE else "add_sign"
        audit(session, instance, actor.username, action, task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
              comment=comment or None, data_changed={"mode": mode, "rule": rule, "signers": names},
              on_behalf_of=acting_for(actor, task))
    return group


def _holder_task(session: Session, actor: User, task_id: str) -> tuple[HumanTask, Instance]:
    task, instance = open_task(session, actor, task_id)
    require_can_act(actor, task)
    require_holder_row(task)
    return task, instance


def require_holder_row(task: HumanTask) -> None:
    """Refuse actions on the step itself (退回, 转办, 加签) from an added approver's row."""
    if task.sign_group_id is not None:
        raise Forbidden("加签人只能提出审批意见，不能退回、转办、加签或委派；本环节的决定由其办理人作出")


def _signers(session: Session, actor: User, task: HumanTask, names: list[str]) -> list[User]:
    units = {task.unit_id, office_unit(session).id}
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    users, problems = [], []
    for name in names:
        user = found.get(name)
        if user is None or not user.active:
            problems.append(f"用户 {name} 不存在或已停用")
        elif user.id == actor.id or name == task.assignee:
            problems.append("不能给本环节的办理人自己加签")
        elif _signing_grant(user, units) is None:
            problems.append(f"{user.display_name} 须在本环节所在单位或市政府新闻办具有审批角色")
        else:
            users.append(user)
    if problems:
        raise InvalidInput("加签人不符合要求", fields={"signers": problems})
    return users


def _signing_grant(user: User, units: set[int]) -> tuple[str, int] | None:
    grants = sorted((g.role, g.unit_id) for g in user.grants if g.role in SIGNER_ROLES and g.unit_id in units)
    return grants[0] if grants else None


def _create_rows(session: Session, instance: Instance, task: HumanTask, group: SignGroup, users: list[User],
                 by: User) -> None:
    units = {task.unit_id, office_unit(session).id}
    for user in users:
        grant = _signing_grant(user, units)
        assert grant is not None  # noqa: S101 - checked by _signers in this unit of work
        row = HumanTask(
            id=str(uuid.uuid4()), spiff_task_id=task.spiff_task_id, instance_id=instance.id, name=task.name,
            bpmn_id=task.bpmn_id, form_key=task.form_key if group.mode == DELEGATE else "sign_opinion",
            candidate_roles=[grant[0]], unit_id=grant[1], assignee=user.username, created_at=clock.now(),
            due_at=task.due_at, due_provisional=task.due_provisional, sign_group_id=group.id)
        session.add(row)
        what = "委派给您办理" if group.mode == DELEGATE else f"请您{MODES[group.mode]}"
        notify(session, [user], "new_task", f"{by.display_name} {what}《{instance.title}》{task.name}", instance, row)


def _rows(session: Session, group: SignGroup) -> list[HumanTask]:
    return [r for r in rows_of(session, group) if r.closed_reason != "removed"]


def _hold(session: Session, actor: User, task: HumanTask, instance: Instance, group: SignGroup,
          values: dict[str, Any]) -> None:
    group.held_values, group.held_by, group.held_for = values, actor.username, acting_for(actor, task)
    if group.mode == "after":
        _create_rows(session, instance, task, group, _signers(session, actor, task, group.signers), actor)
    audit(session, instance, actor.username, "sign_hold", task_id=task.id, task_name=task.name,
          bpmn_id=task.bpmn_id, comment=values.get("comment") or None,
          data_changed={"mode": group.mode, "decision": values.get("decision"), "signers": group.signers},
          on_behalf_of=group.held_for)


def _record_opinion(session: Session, runtime: ProcessRuntime, actor: User, row: HumanTask, instance: Instance,
                    workflow: Any, calendar: WorkCalendar, values: dict[str, Any]) -> None:
    group = session.get(SignGroup, row.sign_group_id)
    holder = session.get(HumanTask, group.task_id) if group is not None else None
    if group is None or holder is None or group.closed_at is not None or not holder.is_open:
        raise Conflict("加签已结束，不能再办理")
    row.completed_at, row.completed_by, row.closed_reason = clock.now(), actor.username, "completed"
    row.on_behalf_of = acting_for(actor, row)
    if group.mode == DELEGATE:
        # The colleague's values become what the holder's form shows; the holder finishes the step.
        spiff_task = runtime.task(workflow, row.spiff_task_id)
        assert spiff_task is not None  # noqa: S101 - complete_task checked it is READY
        spiff_task.set_data(**workflow_values(holder, values))
    else:
        row.decision = values.get("decision")
    audit(session, instance, actor.username, "delegate_done" if group.mode == DELEGATE else "sign_opinion",
          task_id=row.id, task_name=row.name, bpmn_id=row.bpmn_id, comment=values.get("comment") or None,
          data_changed={"mode": group.mode, "rule": group.rule, "decision": values.get("decision")},
          on_behalf_of=row.on_behalf_of)
    if not _settle(session, runtime, instance, group, holder, workflow, calendar):
        save_workflow(session, runtime, instance, workflow, calendar)


def _outcome(session: Session, group: SignGroup) -> str | None:
    rows = _rows(session, group)
    done = [r for r in rows if r.closed_reason == "completed"]
    if not rows:
        # Nobody left: every added approver was taken back (a planned 后加签 keeps its list until then).
        return "removed" if not group.signers else None
    if group.mode == DELEGATE:
        return "agreed" if done else None
    if group.rule == "any" and done:
        return "agreed" if done[0].decision == "agree" else "disagreed"
    if any(r.decision == "disagree" for r in done):
        return "disagreed"
    return "agreed" if len(done) == len(rows) else None


def _settle(session: Session, runtime: ProcessRuntime, instance: Instance, group: SignGroup, holder: HumanTask,
            workflow: Any = None, calendar: WorkCalendar | None = None) -> bool:
    """Close the group once its rule decides it; complete the step with the holder's kept values if it agreed."""
    outcome = _outcome(session, group)
    if outcome is None:
        return False
    now = clock.now()
    group.closed_at, group.outcome = now, outcome
    for row in _rows(session, group):
        if row.is_open:
            row.completed_at, row.closed_reason = now, "cancelled"
    audit(session, instance, "system", "sign_done", task_id=holder.id, task_name=holder.name,
          bpmn_id=holder.bpmn_id, data_changed={"mode": group.mode, "rule": group.rule, "outcome": outcome})
    if group.held_values is not None and outcome in ("agreed", "removed"):
        if workflow is None or calendar is None:
            calendar = load_calendar(session)
            workflow = load_workflow(runtime, instance, calendar)
        finish_task(session, runtime, instance, workflow, calendar, holder, group.held_values,
                    group.held_by or holder.assignee or group.added_by, group.held_for)
        return True
    people = list(session.scalars(select(User).where(User.username == (holder.assignee or group.added_by))))
    notify(session, people, "new_task", f"加签已完成，《{instance.title}》{holder.name} 请您继续办理", instance, holder)
    return False


def _check_comment(comment: str, *, required: bool) -> None:
    if required and not comment.strip():
        raise InvalidInput("须填写说明", fields={"comment": ["请填写委派说明"]})
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("说明过长", fields={"comment": [f"说明不能超过 {MAX_COMMENT} 个字符"]})
