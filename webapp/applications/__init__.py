"""Applications: start one, my applications, and the application page (timeline, comments, attachments)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("applications", __name__, url_prefix="/applications", template_folder="templates")

# the routes on bp: the pages, attachment preview and the printable approval sheet
from webapp.applications import annual_views, files, sheet, views  # noqa: E402,F401
