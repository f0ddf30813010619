"""Who may see and do what: every check is by role **and** unit."""

from __future__ import annotations

from sqlalchemy import Select, false, or_

from engine.errors import Forbidden, NotFound
from engine.models import HumanTask, Instance, User

UNIT_ROLES = ("applicant", "unit_leader", "unit_spokesperson", "secrecy_reviewer")
OFFICE_ROLES = (
    "office_reviewer", "municipal_spokesperson", "spokesperson_assistant", "onsite_staff", "opinion_monitor",
)
OVERSIGHT_ROLES = ("supervisor", "admin")
ROLES = (*UNIT_ROLES, *OFFICE_ROLES, *OVERSIGHT_ROLES, "process_owner")

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
    "supervisor": "督办人员",
    "process_owner": "流程管理员",
    "admin": "系统管理员",
}


def is_overseer(user: User) -> bool:
    """Supervisors and admins see every instance (they read and supervise, they do not approve)."""
    return bool(user.roles() & set(OVERSIGHT_ROLES))


def works_for_office(user: User) -> bool:
    """The Information Office receives every application, so its staff see them all."""
    return any(g.role in OFFICE_ROLES and g.unit.kind == "office" for g in user.grants)


def can_see(user: User, instance: Instance) -> bool:
    """Tell whether the user may see an instance."""
    if is_overseer(user) or works_for_office(user):
        return True
    return any(g.unit_id == instance.unit_id for g in user.grants)


def visible_instances(user: User, query: Select) -> Select:
    """Restrict an ``Instance`` query to what the user may see."""
    if is_overseer(user) or works_for_office(user):
        return query
    unit_ids = {g.unit_id for g in user.grants}
    return query.where(Instance.unit_id.in_(unit_ids) if unit_ids else false())


def require_visible(user: User, instance: Instance | None) -> Instance:
    """Return the instance, or raise NotFound so that others' work stays invisible."""
    if instance is None or not can_see(user, instance):
        raise NotFound("申请不存在或无权查看")
    return instance


def holds_candidate_role(user: User, task: HumanTask) -> bool:
    """Tell whether the user holds one of the task's roles in the task's unit."""
    return any(user.holds(role, task.unit_id) for role in task.candidate_roles)


def can_act(user: User, task: HumanTask) -> bool:
    """Tell whether the user may claim or complete the task now."""
    return holds_candidate_role(user, task) and task.assignee in (None, user.username)


def require_can_act(user: User, task: HumanTask) -> None:
    """Raise Forbidden unless the user may act on the task."""
    if not holds_candidate_role(user, task):
        raise Forbidden("您没有办理此任务的权限（须在该单位具有相应角色）")
    if task.assignee not in (None, user.username):
        raise Forbidden(f"此任务已由 {task.assignee} 认领")


def task_visibility_filter(user: User) -> object:
    """SQL condition for open tasks in the units where the user holds a role."""
    unit_ids = {g.unit_id for g in user.grants}
    return or_(HumanTask.unit_id.in_(unit_ids), HumanTask.assignee == user.username) if unit_ids else false()
