"""委托: a user names a delegate for a window of days; the delegate then sees and completes the user's tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import Delegation, User
from engine.transactions import current_transaction
from engine.workflow.scripting import shanghai_today

MAX_DAYS = 90


@dataclass(frozen=True)
class DelegatedGrant:
    """A role the delegate may use in a unit, on behalf of ``principal``."""

    role: str
    unit_id: int
    principal: str


def load_delegations(session: Session, user: User, today: dt.date | None = None) -> User:
    """Attach to ``user`` the grants delegated to them today (``user.delegated``); return the user."""
    today = today or shanghai_today()
    # Read once per transaction: the API's sign-in and the action it serves both ask, and the answer cannot differ.
    transaction = current_transaction(session)
    if transaction is not None and getattr(user, "_delegations_read", None) == (transaction, today):
        return user
    rows = session.scalars(select(Delegation).where(
        Delegation.delegate_id == user.id, Delegation.revoked_at.is_(None),
        Delegation.starts_on <= today, Delegation.ends_on >= today,
    ))
    user.delegated = [DelegatedGrant(g.role, g.unit_id, d.principal.username)  # type: ignore[attr-defined]
                      for d in rows for g in d.principal.grants]
    user._delegations_read = (transaction, today)  # type: ignore[attr-defined]
    return user


def create_delegation(
    session: Session, principal: User, delegate_username: str, starts_on: dt.date, ends_on: dt.date, reason: str
) -> Delegation:
    """Name a delegate for [starts_on, ends_on] (Beijing dates). Commits."""
    delegate = session.scalar(select(User).where(User.username == delegate_username, User.active.is_(True)))
    problems: dict[str, list[str]] = {}
    if delegate is None:
        problems["delegate"] = ["用户不存在"]
    elif delegate.id == principal.id:
        problems["delegate"] = ["不能委托给自己"]
    elif not {g.unit_id for g in delegate.grants} & {g.unit_id for g in principal.grants}:
        problems["delegate"] = ["只能委托给本单位的人员"]
    if ends_on < starts_on:
        problems["ends_on"] = ["结束日期不能早于开始日期"]
    elif ends_on < shanghai_today():
        problems["ends_on"] = ["结束日期不能早于今天"]
    elif (ends_on - starts_on).days >= MAX_DAYS:
        problems["ends_on"] = [f"委托期限最长 {MAX_DAYS} 天"]
    if not reason.strip():
        problems["reason"] = ["请填写委托事由"]
    if problems:
        raise InvalidInput("委托设置有误", fields=problems)
    assert delegate is not None  # noqa: S101 - narrowed by the checks above
    overlapping = session.scalar(select(Delegation).where(
        Delegation.principal_id == principal.id, Delegation.revoked_at.is_(None),
        Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on,
    ))
    if overlapping is not None:
        window = f"{overlapping.starts_on} 至 {overlapping.ends_on}"
        raise InvalidInput("与已有委托时间重叠", fields={"starts_on": [
            f"已委托 {overlapping.delegate.display_name}（{window}），请先撤销"]})
    delegation = Delegation(principal_id=principal.id, delegate_id=delegate.id, starts_on=starts_on, ends_on=ends_on,
                            reason=reason.strip(), created_at=clock.now())
    session.add(delegation)
    session.commit()
    return delegation


def revoke_delegation(session: Session, principal: User, delegation_id: int) -> None:
    """End one of the principal's delegations now. Commits."""
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or delegation.principal_id != principal.id:
        raise NotFound("委托不存在")
    if delegation.revoked_at is not None:
        raise Forbidden("该委托已撤销")
    delegation.revoked_at = clock.now()
    session.commit()


def delegations_of(session: Session, user: User) -> list[Delegation]:
    """Return the delegations the user gave or received, newest first."""
    return list(session.scalars(select(Delegation).where(
        (Delegation.principal_id == user.id) | (Delegation.delegate_id == user.id)
    ).order_by(Delegation.starts_on.desc(), Delegation.id.desc())))
