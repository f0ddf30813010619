"""委托: name a delegate for a window of days."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("delegations", __name__, url_prefix="/delegations", template_folder="templates")

from webapp.delegations import views  # noqa: E402,F401 - registers the routes on bp
