"""Who may see and do what: every check is by role **and** unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, false, or_, select
from sqlalchemy.orm import Session, object_session

from engine.errors import Forbidden, NotFound
from engine.models import CarbonCopy, HumanTask, Instance, User

UNIT_ROLES = ("applicant", "unit_leader", "unit_spokesperson", "secrecy_reviewer")
OFFICE_ROLES = (
    "office_reviewer", "municipal_spokesperson", "spokesperson_assistant", "onsite_staff", "opinion_monitor",
    "municipal_leader",
)
OVERSIGHT_ROLES = ("supervisor", "admin")
#: 定时发布 (Art. 15(七)): the incident command HQ's roles; a release round's HQ steps go to the HQ unit.
HQ_ROLES = ("hq_leader", "general_office_clerk")
TIMED_RELEASE_ROLES = (*HQ_ROLES, "release_writer")
ROLES = (*UNIT_ROLES, *OFFICE_ROLES, *OVERSIGHT_ROLES, "process_owner", *TIMED_RELEASE_ROLES)

ROLE_LABELS = {
    "applicant": "申报单位经办人",
    "unit_leader": "主要负责人",
    "unit_spokesperson": "新闻发言人",
    "secrecy_reviewer": "保密审查员",
    "office_reviewer": "新闻办审核人",
    "municipal_spokesperson": "市政府新闻发言人",
    "spokesperson_assistant": "发言人助理",
    "onsite_staff": "现场管理人员",
    "opinion_monitor": "舆情监测人员",
    "municipal_leader": "市政府领导",
    "supervisor": "督办人员",
    "process_owner": "流程管理员",
    "admin": "系统管理员",
    "hq_leader": "指挥部领导",
    "general_office_clerk": "市政府办公厅联络员",
    "release_writer": "发布文稿撰写人",
}


def is_overseer(user: User) -> bool:
    """Supervisors and admins see every instance (they read and supervise, they do not approve)."""
    return bool(user.roles() & set(OVERSIGHT_ROLES))


def may_model(user: User) -> bool:
    """Process owners and admins edit, validate, deploy and migrate process models; nobody else."""
    return bool(user.roles() & {"process_owner", "admin"})


def works_for_office(user: User) -> bool:
    """The Information Office receives every application, so its staff see them all."""
    return any(g.role in OFFICE_ROLES and g.unit.kind == "office" for g in user.grants)


def unit_ids(user: User) -> set[int]:
    """Units where the user holds a role, their own or delegated to them for today."""
    return {g.unit_id for g in user.grants} | {g.unit_id for g in delegated(user)}


def delegated(user: User) -> list[Any]:
    """Grants delegated to the user today (see :func:`engine.review.delegation.load_delegations`)."""
    return list(getattr(user, "delegated", ()))


def takes_part(user: User, instance: Instance) -> bool:
    """Tell whether the user sees the instance by role and unit (not merely because it was copied to them)."""
    if is_overseer(user) or works_for_office(user):
        return True
    units = unit_ids(user)
    return instance.unit_id in units or instance.joint_unit_id in units


def was_copied(user: User, instance: Instance) -> bool:
    """Tell whether the instance was copied (抄送) to the user: that lets them read this one instance."""
    session = object_session(instance)
    if session is None or instance.id is None:
        return False
    return session.scalar(select(CarbonCopy.id).where(
        CarbonCopy.instance_id == instance.id, CarbonCopy.recipient_id == user.id).limit(1)) is not None


def can_see(user: User, instance: Instance) -> bool:
    """Tell whether the user may see an instance."""
    return takes_part(user, instance) or was_copied(user, instance)


def visible_instances(user: User, query: Select) -> Select:
    """Restrict an ``Instance`` query to what the user may see."""
    if is_overseer(user) or works_for_office(user):
        return query
    units = unit_ids(user)
    copied = Instance.id.in_(select(CarbonCopy.instance_id).where(CarbonCopy.recipient_id == user.id))
    # A joint unit (the HQ of a timed-release round) sees the instance as its own unit does.
    return query.where(or_(Instance.unit_id.in_(units), Instance.joint_unit_id.in_(units), copied) if units
                       else copied)


def require_visible(user: User, instance: Instance | None) -> Instance:
    """Return the instance, or raise NotFound so that others' work stays invisible."""
    if instance is None or not can_see(user, instance):
        raise NotFound("申请不存在或无权查看")
    return instance


def require_participant(user: User, instance: Instance) -> None:
    """Raise Forbidden for someone who reads the instance only because it was copied to them."""
    if not takes_part(user, instance):
        raise Forbidden("此申请抄送给您知悉，您只能阅读，不能办理或上传附件")


def holds_candidate_role(user: User, task: HumanTask) -> bool:
    """Tell whether the user holds one of the task's roles in the task's unit (themselves or by delegation)."""
    return any(user.holds(role, task.unit_id) for role in task.candidate_roles) or acting_for(user, task) is not None


def may_hold(session: Session, username: str, task: HumanTask) -> bool:
    """Tell whether an active user of that name holds one of the task's roles in its unit (themselves)."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return user is not None and any(user.holds(role, task.unit_id) for role in task.candidate_roles)


def acting_for(user: User, task: HumanTask) -> str | None:
    """Name the principal a delegate would act for on this task, or None when the user acts in their own right."""
    if any(user.holds(role, task.unit_id) for role in task.candidate_roles):
        return None
    principals = [g.principal for g in delegated(user) if g.role in task.candidate_roles and g.unit_id == task.unit_id]
    if task.assignee in principals:
        return task.assignee
    # A group task the delegate took (认领) or was handed stays theirs to finish while the delegation lasts.
    return principals[0] if principals and task.assignee in (None, user.username) else None


def can_act(user: User, task: HumanTask) -> bool:
    """Tell whether the user may claim or complete the task now."""
    if not holds_candidate_role(user, task):
        return False
    return task.assignee in (None, user.username) or task.assignee == acting_for(user, task)


def require_can_act(user: User, task: HumanTask) -> None:
    """Raise Forbidden unless the user may act on the task."""
    if not holds_candidate_role(user, task):
        raise Forbidden("您没有办理此任务的权限（须在该单位具有相应角色）")
    if not can_act(user, task):
        raise Forbidden(f"此任务已由 {task.assignee} 认领")


def task_visibility_filter(user: User) -> object:
    """SQL condition for open tasks in the units where the user holds a role (or was delegated one)."""
    units = unit_ids(user)
    mine = [user.username, *{g.principal for g in delegated(user)}]
    return or_(HumanTask.unit_id.in_(units), HumanTask.assignee.in_(mine)) if units else false()


def actionable_filter(user: User, claimed: bool | None = None) -> ColumnElement[bool]:
    """SQL condition for the open tasks :func:`can_act` allows, so the inbox can sort and page in the database.

    ``claimed``: True for tasks held by the user or a principal, False for the role queue, None for both. It mirrors
    :func:`can_act`; callers still check :func:`can_act` on the rows they show (a rare corner where both disagree
    is left out, never shown).
    """
    units = unit_ids(user)
    if not units:
        return false()
    holds = [(g.role, g.unit_id) for g in user.grants]
    on_behalf = [(g.role, g.unit_id, g.principal) for g in delegated(user)]
    queue = and_(HumanTask.assignee.is_(None),
                 or_(false(), *(_role_at(role, unit) for role, unit in holds + [(r, u) for r, u, _ in on_behalf])))
    held = or_(HumanTask.assignee == user.username,
               *(and_(HumanTask.assignee == principal, _role_at(role, unit)) for role, unit, principal in on_behalf))
    which = held if claimed else queue if claimed is not None else or_(held, queue)
    return and_(HumanTask.completed_at.is_(None), HumanTask.unit_id.in_(units), which)


def _role_at(role: str, unit_id: int) -> ColumnElement[bool]:
    # candidate_roles is a JSON list, stored as its JSON text on both backends: look for the quoted name.
    quoted = '"' + role.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    return and_(HumanTask.unit_id == unit_id, cast(HumanTask.candidate_roles, String).like(f"%{quoted}%", escape="\\"))
