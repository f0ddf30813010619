"""Open tasks nobody can act on: the assignee left or lost the role, or no active user holds the role in the unit.

Mirrors :func:`engine.org.access.can_act` for every open task at once, in three queries, so the supervisors'
dashboard and the test suite can ask it cheaply. Tasks of suspended applications wait on purpose and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, lazyload

from engine.models import Delegation, HumanTask, Instance, RoleGrant, User
from engine.workflow.scripting import shanghai_today

#: Applications whose open tasks someone must be able to act on now.
LIVE_STATUSES = ("running", "waiting", "error")

Post = tuple[str, int]  # (role, unit_id)


@dataclass(frozen=True)
class StrandedTask:
    """An open task nobody can act on, and why."""

    task_id: str
    instance_id: int
    instance_title: str
    step: str
    unit_id: int
    assignee: str | None
    reason: str

    def describe(self) -> str:
        """One line naming the task, its application and its holder."""
        holder = self.assignee or "（岗位待认领）"
        return (f"任务 {self.task_id}「{self.step}」 申请 #{self.instance_id}《{self.instance_title}》 "
                f"办理人 {holder}：{self.reason}")


@dataclass
class _Staff:
    """Who holds which post today: active holders, every holder's posts, and active delegates per principal."""

    holders: dict[Post, set[str]]
    posts_of: dict[str, set[Post]]
    active: set[str]
    delegates_of: dict[str, set[str]]

    def delegates_for(self, post: Post) -> set[str]:
        """Active delegates whose principal holds the post (a delegate acts with the principal's grants)."""
        return {d for principal, delegates in self.delegates_of.items() if post in self.posts_of.get(principal, ())
                for d in delegates}

    def can_act(self, task: HumanTask) -> bool:
        """Tell whether at least one active user may claim or complete the task now."""
        posts = [(role, task.unit_id) for role in task.candidate_roles]
        if task.assignee is None:
            return any(self.holders.get(p) or self.delegates_for(p) for p in posts)
        assignee = task.assignee
        if assignee in self.active and any(p in self.posts_of.get(assignee, ()) for p in posts):
            return True
        if any(assignee in self.delegates_for(p) for p in posts):
            return True  # a delegate holding the task for one of their principals
        held_by_assignee = any(p in self.posts_of.get(assignee, ()) for p in posts)
        return held_by_assignee and bool(self.delegates_of.get(assignee))


def stranded_tasks(session: Session, today: dt.date | None = None,
                   open_tasks: Iterable[tuple[HumanTask, str]] | None = None) -> list[StrandedTask]:
    """Find the open tasks of live applications that no active user can act on (today, Beijing date).

    ``open_tasks``: those tasks with their application's title, when the caller holds them already (the dashboard).
    """
    staff = _load_staff(session, today or shanghai_today())
    rows = _live_open_tasks(session) if open_tasks is None else sorted(
        open_tasks, key=lambda pair: (pair[0].instance_id, pair[0].created_at))
    return [StrandedTask(task.id, task.instance_id, title or "", task.name, task.unit_id, task.assignee,
                         _reason(staff, task)) for task, title in rows if not staff.can_act(task)]


def _live_open_tasks(session: Session) -> Iterable[tuple[HumanTask, str]]:
    return session.execute(
        select(HumanTask, Instance.title).join(Instance, HumanTask.instance_id == Instance.id)
        .where(HumanTask.completed_at.is_(None), Instance.status.in_(LIVE_STATUSES))
        .order_by(HumanTask.instance_id, HumanTask.created_at)
        # Only the title is shown: the instance and the unit would be joined and decoded for nothing.
        .options(lazyload(HumanTask.instance), lazyload(HumanTask.unit))).tuples()


def _reason(staff: _Staff, task: HumanTask) -> str:
    if task.assignee is None:
        return "该单位没有在岗的相应角色人员"
    if task.assignee not in staff.active:
        return f"办理人 {task.assignee} 已停用或不存在"
    return f"办理人 {task.assignee} 在该单位不具有此环节的角色"


def _load_staff(session: Session, today: dt.date) -> _Staff:
    holders: dict[Post, set[str]] = defaultdict(set)
    posts_of: dict[str, set[Post]] = defaultdict(set)
    active: set[str] = set(session.scalars(select(User.username).where(User.active.is_(True))))
    for username, role, unit_id in session.execute(
            select(User.username, RoleGrant.role, RoleGrant.unit_id).join(RoleGrant, RoleGrant.user_id == User.id)):
        posts_of[username].add((role, unit_id))
        if username in active:
            holders[(role, unit_id)].add(username)
    principal, delegate = aliased(User), aliased(User)
    delegates_of: dict[str, set[str]] = defaultdict(set)
    for principal_name, delegate_name in session.execute(
            select(principal.username, delegate.username)
            .join(Delegation, Delegation.principal_id == principal.id)
            .join(delegate, Delegation.delegate_id == delegate.id)
            .where(Delegation.revoked_at.is_(None), Delegation.starts_on <= today, Delegation.ends_on >= today,
                   delegate.active.is_(True))):
        delegates_of[principal_name].add(delegate_name)
    return _Staff(holders, posts_of, active, delegates_of)
