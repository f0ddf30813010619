"""Applications: start one, my applications, and the application page (timeline, comments, attachments)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("applications", __name__, url_prefix="/applications", template_folder="templates")

from webapp.applications import views  # noqa: E402,F401 - registers the routes on bp
