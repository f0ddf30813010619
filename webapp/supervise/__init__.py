"""Supervisors (督办): dashboard, instance list and exports, instance page, actions, heatmap and charts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supervise", __name__, url_prefix="/supervise", template_folder="templates")

from webapp.supervise import actions, views  # noqa: E402,F401 - registers the routes on bp
