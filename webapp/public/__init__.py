"""Public pages reachable without signing in: the reporters' interview request form (第十二条（六）)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public", template_folder="templates")

from webapp.public import interview  # noqa: E402,F401
