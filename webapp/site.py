"""Public pages: the landing page and the health check used by load balancers and the container entrypoint."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for
from sqlalchemy import func, select, text

from engine.models import Instance
from engine.workflow.deploy import latest_versions
from webapp.extensions import db
from webapp.web import current_user

bp = Blueprint("site", __name__)


@bp.get("/")
def index() -> str | Response:
    """Signed-in people go to their inbox; visitors see what the platform is and where to sign in, nothing more.

    What is deployed, by whom, and how many applications there are is the office's business, not the public's.
    """
    user = current_user()
    if user is not None and "tasks.inbox" in current_app.view_functions:
        return redirect(url_for("tasks.inbox"))
    if user is None:
        return render_template("index.html", versions=None, counts=None)
    versions = latest_versions(db.session)
    counts = dict(db.session.execute(
        select(Instance.status, func.count()).group_by(Instance.status)
    ).tuples().all())
    return render_template("index.html", versions=versions, counts=counts)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable", database="error"), 503
    return jsonify(status="ok", database=db.engine.dialect.name), 200
