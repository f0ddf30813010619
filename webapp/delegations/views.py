"""Routes of the delegations blueprint: the delegations I gave and received, naming a delegate, revoking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.errors import Forbidden, InvalidInput
from engine.models import Delegation, RoleGrant, User
from engine.review import delegation
from engine.workflow.scripting import shanghai_today
from webapp.delegations import bp
from webapp.extensions import db
from webapp.web import current_user, login_required

FIELDS = ("delegate", "starts_on", "ends_on", "reason")


@bp.get("", endpoint="index")
@login_required
def index() -> str:
    """委托: what I delegated and what was delegated to me, and the form to name a delegate."""
    today = shanghai_today().isoformat()
    return _page({"starts_on": today, "ends_on": today})


@bp.post("", endpoint="create")
@login_required
def create() -> Response | tuple[str, int]:
    """Name a delegate for a window of days."""
    posted = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        starts_on, ends_on = _date(posted, "starts_on"), _date(posted, "ends_on")
        delegation.create_delegation(db.session, current_user(), posted["delegate"], starts_on, ends_on,
                                     posted["reason"][:1000])
    except InvalidInput as exc:
        return _page(posted, exc.fields or {}), 422
    flash(_("委托已设置：委托期间，受托人可以看到并代您办理待办"), "success")
    return redirect(url_for("delegations.index"))


@bp.post("/<int:delegation_id>/revoke", endpoint="revoke")
@login_required
def revoke(delegation_id: int) -> Response:
    """End one of my delegations now."""
    try:
        delegation.revoke_delegation(db.session, current_user(), delegation_id)
    except Forbidden:
        flash(_("该委托已撤销"), "warning")
    else:
        flash(_("委托已撤销"), "success")
    return redirect(url_for("delegations.index"))


def _date(posted: dict[str, str], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(posted[name])
    except ValueError as exc:
        raise InvalidInput("日期无效", fields={name: [_("请按 年-月-日 填写日期，如 2026-03-02")]}) from exc


def _page(posted: dict[str, str], errors: dict[str, Any] | None = None) -> str:
    user = current_user()
    rows = delegation.delegations_of(db.session, user)
    return render_template(
        "delegations/index.html", given=[d for d in rows if d.principal_id == user.id],
        received=[d for d in rows if d.delegate_id == user.id], state_of=_state, candidates=_colleagues(user),
        posted=posted, errors=errors or {},
    )


def _state(row: Delegation) -> tuple[str, str]:
    today = shanghai_today()
    if row.revoked_at is not None:
        return _("已撤销"), "revoked"
    if today < row.starts_on:
        return _("未开始"), "pending"
    if today > row.ends_on:
        return _("已结束"), "ended"
    return _("生效中"), "active"


def _colleagues(user: User) -> list[User]:
    units = {g.unit_id for g in user.grants}
    people = db.session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.unit_id.in_(units), User.id != user.id, User.active.is_(True)).order_by(User.username))
    return list(dict.fromkeys(people)) if units else []
