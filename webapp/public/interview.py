"""The public interview request form: no sign-in, CSRF, rate limited per client address; shows only a receipt."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from engine.errors import InvalidInput
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
    return formdata.describe(ENTRY_FORM)


def _runtime() -> Any:
    from flask import current_app

    return current_app.extensions["pressflow_runtime"]
