"""The spokesperson roster (新闻发言人备案, Art. 8(三)(四)): filing with its enforced counts, ending, the yearly list.

A district or department files 1–2 spokespersons, the municipal government 2–3. **[assumed]** the municipal
government's spokespersons are filed under the Information Office's unit (it appoints and manages them), so the
``office`` unit may hold 3 and every other unit 2. Only the upper bound is enforced: a unit below the lower bound is
a gap to close, not an input to refuse. The count is checked when the proposal is submitted and again, with the
unit's row locked, when the Office files it, so two filings at once cannot both take the last place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, extract, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import HumanTask, Instance, RoleGrant, Spokesperson, Unit, User
from engine.workdays.calendar import SHANGHAI
from engine.workflow.uow import audit, unit_of_work
from forms.spokesperson import places_message

PROPOSAL_FORM, FILING_FORM = "spokesperson_proposal", "spokesperson_filing"
#: The most spokespersons a unit may have on file at once, by unit kind (the municipal government: 3).
LIMITS = {"office": 3}
DEFAULT_LIMIT = 2
SPOKESPERSON_ROLE = "unit_spokesperson"


def limit_for(unit: Unit) -> int:
    """Return how many spokespersons the unit may have on file at once."""
    return LIMITS.get(unit.kind, DEFAULT_LIMIT)


def places_left(session: Session, unit: Unit) -> int:
    """Return how many more spokespersons the unit may file now."""
    filed = session.scalars(select(Spokesperson.id).where(
        Spokesperson.unit_id == unit.id, Spokesperson.ended_at.is_(None))).all()
    return limit_for(unit) - len(filed)


def form_facts(session: Session, instance: Instance, form_key: str) -> dict[str, Any]:
    """Return the roster facts a spokesperson form's rules read (nothing for other forms)."""
    if form_key != PROPOSAL_FORM:
        return {}
    return {"spokesperson_places": places_left(session, instance.unit),
            "spokesperson_limit": limit_for(instance.unit)}


def on_completion(
    session: Session, instance: Instance, task: HumanTask, values: Mapping[str, Any], task_data: Mapping[str, Any],
    actor: User,
) -> None:
    """When the Office files a proposal (予以备案), put the spokesperson on the roster, or refuse a full unit."""
    if task.form_key != FILING_FORM or values.get("decision") != "file":
        return
    unit = _lock_unit(session, instance.unit_id)
    if places_left(session, unit) <= 0:
        raise InvalidInput(places_message(limit_for(unit)), fields={"decision": [places_message(limit_for(unit))]})
    now = clock.now()
    username = str(task_data.get("username") or "").strip() or None
    entry = Spokesperson(
        unit_id=unit.id, unit=unit, year=now.astimezone(SHANGHAI).year, name=str(task_data.get("name", "")),
        title=str(task_data.get("position", "")), contact=str(task_data.get("contact", "")), username=username,
        instance_id=instance.id, filed_at=now, filed_by=actor.username,
    )
    session.add(entry)
    if username is not None:
        _grant_role(session, username, unit)
    audit(session, instance, actor.username, "file_spokesperson",
          data_changed={"name": entry.name, "unit": unit.name, "username": username})


def check_username(session: Session, values: Mapping[str, Any]) -> None:
    """Refuse a proposal naming a user who does not exist (the role grant would have nobody to go to)."""
    username = str(values.get("username") or "").strip()
    if username and session.scalar(select(User.id).where(User.username == username)) is None:
        raise InvalidInput("表单填写有误", fields={"username": [f"系统中没有用户名为 “{username}” 的用户"]})


def end_filing(session: Session, actor: User, spokesperson_id: int, reason: str) -> Spokesperson:
    """End a filing (免职、调整): the place frees up and the named user loses the spokesperson role. Commits."""
    with unit_of_work(session):
        if not any(g.role == "office_reviewer" and g.unit.kind == "office" for g in actor.grants):
            raise Forbidden("只有市政府新闻办审核人可以终止新闻发言人备案")
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise InvalidInput("请填写终止备案的原因（不超过 500 字）", fields={"reason": ["须填写，不超过 500 字"]})
        entry = session.scalar(select(Spokesperson).where(Spokesperson.id == spokesperson_id).with_for_update())
        if entry is None or entry.ended_at is not None:
            raise NotFound("该新闻发言人备案不存在或已终止")
        entry.ended_at, entry.ended_by, entry.end_reason = clock.now(), actor.username, reason
        if entry.username:
            _revoke_role(session, entry)
        if entry.instance_id is not None and (instance := session.get(Instance, entry.instance_id)) is not None:
            audit(session, instance, actor.username, "end_spokesperson", comment=reason,
                  data_changed={"name": entry.name})
    return entry


def roster(session: Session, year: int) -> list[Spokesperson]:
    """Return the spokespersons on file in a year (filed by its end, not ended before it began), by unit."""
    ended_in_or_after = or_(Spokesperson.ended_at.is_(None),
                            extract("year", Spokesperson.ended_at) >= year)
    return list(session.scalars(
        select(Spokesperson).join(Unit).where(and_(Spokesperson.year <= year, ended_in_or_after))
        .order_by(Unit.kind.desc(), Unit.code, Spokesperson.filed_at)))


def _lock_unit(session: Session, unit_id: int) -> Unit:
    # Two proposals of one unit are two instances: the unit's row is what both filings must take in turn.
    query = select(Unit).where(Unit.id == unit_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    unit = session.scalar(query)
    if unit is None:
        raise NotFound("单位不存在")
    return unit


def _grant_role(session: Session, username: str, unit: Unit) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not user.holds(SPOKESPERSON_ROLE, unit.id):
        user.grants.append(RoleGrant(role=SPOKESPERSON_ROLE, unit_id=unit.id, unit=unit))


def _revoke_role(session: Session, entry: Spokesperson) -> None:
    still_filed = session.scalar(select(Spokesperson.id).where(
        Spokesperson.username == entry.username, Spokesperson.unit_id == entry.unit_id,
        Spokesperson.ended_at.is_(None), Spokesperson.id != entry.id).limit(1))
    if still_filed is not None:
        return
    user = session.scalar(select(User).where(User.username == entry.username))
    if user is not None:
        for grant in [g for g in user.grants if g.role == SPOKESPERSON_ROLE and g.unit_id == entry.unit_id]:
            user.grants.remove(grant)
