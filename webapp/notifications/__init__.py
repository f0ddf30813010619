"""In-app notifications (新待办, 退回, 逾期, 催办 …)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")

from webapp.notifications import preferences, views  # noqa: E402,F401 - registers the routes on bp
