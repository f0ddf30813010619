"""Reviewers' inbox (待办 / 已办) and the task page with its actions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/tasks", template_folder="templates")

from webapp.tasks import batch_views, phrase_views, views  # noqa: E402,F401 - registers the routes on bp
