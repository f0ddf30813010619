"""抄送: copy an application to people for information, by the model when a step completes or by its reviewer.

A copy (:class:`engine.models.CarbonCopy`) lets its recipient read that one application (see
:func:`engine.org.access.can_see`), never act on it; opening the application marks the copy 已阅, and the sender sees
who has read it and when.

Recipients are named as usernames or as ``role@unit``: ``@applying`` is the applying unit, ``@office`` the
Information Office, anything else a unit code; a bare ``role`` means the applying unit for the unit roles and the
Office for the Office's roles (where the tasks of that role are held).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import CarbonCopy, HumanTask, Instance, RoleGrant, Unit, User
from engine.org.access import OFFICE_ROLES, is_overseer, require_can_act, require_visible
from engine.org.units import ROLE_SPEC, office_unit, role_spec_problem, username_problem
from engine.review.delegation import load_delegations
from engine.review.notify import notify
from engine.workflow.uow import audit, require_instance, unit_of_work

APPLYING, OFFICE = "applying", "office"
NOTE_MAX = 500
#: The most people one copy may reach: a typo in a role must not copy a whole organisation.
MAX_RECIPIENTS = 50


@dataclass
class Recipients:
    """The people a copy reaches, the role@unit that chose each, and what named nobody."""

    users: dict[int, User] = field(default_factory=dict)
    via: dict[int, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


def resolve(session: Session, instance: Instance, role_specs: Iterable[str], usernames: Iterable[str]) -> Recipients:
    """Find the active users the specs name; what is malformed or names nobody goes to ``unresolved``."""
    found = Recipients()
    for spec in dict.fromkeys(role_specs):
        people = _holders(session, instance, spec) if role_spec_problem(spec) is None else []
        if not people:
            found.unresolved.append(spec)
        for user in people:
            found.users.setdefault(user.id, user)
            found.via.setdefault(user.id, spec)
    for username in dict.fromkeys(usernames):
        named = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if named is None:
            found.unresolved.append(username)
        else:
            found.users.setdefault(named.id, named)
    return found


def spec_unit(session: Session, instance: Instance, spec: str) -> Unit | None:
    """The unit a well-formed ``role@unit`` points at for this instance, or None when no such unit exists."""
    match = ROLE_SPEC.fullmatch(spec)
    if match is None:
        return None
    selector = match["unit"] or (OFFICE if match["role"] in OFFICE_ROLES else APPLYING)
    if selector == APPLYING:
        return instance.unit
    if selector == OFFICE:
        try:
            return office_unit(session)
        except NotFound:
            return None
    return session.scalar(select(Unit).where(Unit.code == selector))


def _holders(session: Session, instance: Instance, spec: str) -> list[User]:
    unit = spec_unit(session, instance, spec)
    if unit is None:
        return []
    role = spec.split("@", 1)[0]
    return list(session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.role == role, RoleGrant.unit_id == unit.id, User.active.is_(True)).order_by(User.username)))


def copy_on_completion(session: Session, instance: Instance, task: HumanTask, properties: dict[str, str],
                       actor: User, values: dict[str, Any]) -> None:
    """Send the copies a completed step's model asks for (``ccRoles``, ``ccUsers``), carrying its decision."""
    specs, names = properties.get("ccRoles", "").split(), properties.get("ccUsers", "").split()
    if not specs and not names:
        return
    found = resolve(session, instance, specs, names)
    outcome = decision_text(task.form_key, values.get("decision"))
    _send(session, instance, task, actor, found, "model", None, {"decision": outcome})


def decision_text(form_key: str, value: Any) -> str:
    """The decision of a step in the words of its form (同意, 退回修改 …), or 已提交."""
    name = forms.decision_field(form_key) if form_key in forms.FORM_KEYS else None
    labels = {c["value"]: c["label"] for f in (forms.describe_form(form_key) if name else [])
              if f["name"] == name for c in f.get("choices") or ()}
    return str(labels.get(value, "已提交"))


def copy_to(session: Session, actor: User, task_id: str, usernames: list[str], role_specs: list[str],
            note: str = "") -> list[CarbonCopy]:
    """抄送 by hand: the holder of an open task copies its application to people or role@unit, with a note."""
    note = note.strip()
    _check_request(usernames, role_specs, note)
    with unit_of_work(session):
        load_delegations(session, actor)
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound("任务不存在或无权查看")
        instance = require_instance(session, require_visible(actor, task.instance).id)
        session.refresh(task)
        if not task.is_open or instance.status in ("suspended", "terminated", "completed"):
            raise Conflict("该任务已办理或申请已不在办理中，不能再从此环节抄送")
        require_can_act(actor, task)
        found = resolve(session, instance, role_specs, usernames)
        _require_resolved(found, usernames, role_specs, actor)
        return _send(session, instance, task, actor, found, "manual", note or None, {})


def _check_request(usernames: list[str], role_specs: list[str], note: str) -> None:
    problems: dict[str, list[str]] = {}
    user_problems = [p for p in map(username_problem, usernames) if p]
    role_problems = [p for p in map(role_spec_problem, role_specs) if p]
    if user_problems:
        problems["users"] = user_problems
    if role_problems:
        problems["roles"] = role_problems
    if not usernames and not role_specs:
        problems["users"] = ["请选择至少一位抄送人或一个角色"]
    if len(note) > NOTE_MAX:
        problems["note"] = [f"说明不能超过 {NOTE_MAX} 个字"]
    if problems:
        raise InvalidInput("抄送未完成", fields=problems)


def _require_resolved(found: Recipients, usernames: list[str], role_specs: list[str], actor: User) -> None:
    problems: dict[str, list[str]] = {}
    missing_users = [n for n in found.unresolved if n in usernames]
    missing_roles = [s for s in found.unresolved if s in role_specs]
    if missing_users:
        problems["users"] = [f"用户 {'、'.join(missing_users)} 不存在或已停用"]
    if missing_roles:
        problems["roles"] = [f"{'、'.join(missing_roles)} 没有在岗人员"]
    others = [u for u in found.users.values() if u.id != actor.id]
    if not problems and not others:
        problems["users"] = ["不能只抄送给自己"]
    if len(others) > MAX_RECIPIENTS:
        problems["roles"] = [f"一次最多抄送 {MAX_RECIPIENTS} 人，当前为 {len(others)} 人"]
    if problems:
        raise InvalidInput("抄送未完成", fields=problems)


def _send(session: Session, instance: Instance, task: HumanTask, sender: User, found: Recipients, source: str,
          note: str | None, facts: dict[str, str]) -> list[CarbonCopy]:
    now = clock.now()
    people = [u for u in found.users.values() if u.id != sender.id][:MAX_RECIPIENTS]
    rows = [CarbonCopy(instance_id=instance.id, recipient_id=u.id, recipient=u, sender=sender.username,
                       task_id=task.id, task_name=task.name, source=source, via_role=found.via.get(u.id), note=note,
                       created_at=now) for u in people]
    session.add_all(rows)
    notify(session, people, "cc", note or "", instance, task, event="cc" if source == "manual" else "cc_model",
           params={"step": task.name, "actor": sender.display_name, **facts}, actor=sender)
    audit(session, instance, sender.username, "cc", task_id=task.id, task_name=task.name, bpmn_id=task.bpmn_id,
          comment=note, data_changed={"source": source, "recipients": [u.username for u in people],
                                      "roles": sorted(set(found.via.values())), "unresolved": found.unresolved})
    return rows


def mark_read(session: Session, user: User, instance_id: int) -> int:
    """已阅: mark the user's unread copies of the instance read; return how many. Commits."""
    with unit_of_work(session):
        require_visible(user, session.get(Instance, instance_id))
        rows = list(session.scalars(select(CarbonCopy).where(
            CarbonCopy.instance_id == instance_id, CarbonCopy.recipient_id == user.id, CarbonCopy.read_at.is_(None))))
        now = clock.now()
        for row in rows:
            row.read_at = now
        if rows:
            audit(session, rows[0].instance, user.username, "cc_read",
                  data_changed={"senders": sorted({r.sender for r in rows})})
    return len(rows)


def copies_to(session: Session, user: User, state: str | None = None, limit: int = 200) -> list[CarbonCopy]:
    """抄送我: the copies the user received, newest first; ``state`` "unread" or "read" narrows them."""
    query = select(CarbonCopy).where(CarbonCopy.recipient_id == user.id)
    if state == "unread":
        query = query.where(CarbonCopy.read_at.is_(None))
    elif state == "read":
        query = query.where(CarbonCopy.read_at.is_not(None))
    return list(session.scalars(query.order_by(CarbonCopy.created_at.desc(), CarbonCopy.id.desc()).limit(limit)))


def unread_count(session: Session, user: User) -> int:
    """Count the copies the user has not read yet (未阅)."""
    return session.scalar(select(func.count()).select_from(CarbonCopy).where(
        CarbonCopy.recipient_id == user.id, CarbonCopy.read_at.is_(None))) or 0


def receipts(session: Session, viewer: User, instance_id: int) -> list[CarbonCopy]:
    """The copies of an application with their 已阅 receipts: those the viewer sent (supervisors: all)."""
    instance = require_visible(viewer, session.get(Instance, instance_id))
    query = select(CarbonCopy).where(CarbonCopy.instance_id == instance.id)
    if not is_overseer(viewer):
        query = query.where(CarbonCopy.sender == viewer.username)
    return list(session.scalars(query.order_by(CarbonCopy.created_at, CarbonCopy.id)))
