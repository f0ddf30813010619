"""新闻发言人名单: the yearly list of filed spokespersons (Art. 8(四)), its CSV, its public page, ending a filing."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("spokespersons", __name__, template_folder="templates")

from webapp.spokespersons import views  # noqa: E402,F401 - registers the routes on bp
