"""The public interview request form: no sign-in, CSRF, rate limited per client address; shows only a receipt."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

import forms
from engine.errors import InvalidInput
from engine.models import Unit
from engine.review.interviews import ENTRY_FORM, submit_public_request
from webapp.extensions import db
from webapp.public import bp
from webapp.security import rate_limit
from webapp.tasks import formdata


@bp.route("/interview", methods=["GET", "POST"], endpoint="interview")
@rate_limit("public_form")
def interview() -> str | tuple[str, int]:
    """Show the request form; on a valid submission start the request and show its receipt number only."""
    if request.method == "GET":
        return _page({}, {})
    data = formdata.from_post(ENTRY_FORM, request.form)
    try:
        receipt = submit_public_request(db.session, _runtime(), data)
    except InvalidInput as exc:
        return _page(data, exc.fields or {}), 422
    return render_template("public/receipt.html", receipt=receipt)


def _page(values: dict[str, Any], errors: dict[str, list[str]]) -> str:
    return render_template("public/interview.html", fields=_fields(), values=values, errors=errors)


def _fields() -> list[dict[str, Any]]:
    """The entry form's fields, the wished unit as a choice among the units (the Office itself is not one)."""
    units = db.session.scalars(select(Unit).where(Unit.kind != "office").order_by(Unit.code)).all()
    described = forms.describe_form(ENTRY_FORM)
    for field in described:
        if field["name"] == "wished_unit":
            field.update(type="choice", label=_("希望采访的单位"), help="",
                         choices=[{"value": u.code, "label": u.name} for u in units])
    return described


def _runtime() -> Any:
    from flask import current_app

    return current_app.extensions["pressflow_runtime"]
