"""Reviewers' inbox (待办 / 已办) and the task page with its actions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/tasks", template_folder="templates")

# the routes on bp: the inbox and task pages, 抄送我, 加签/委派, and uploads from the task form
from webapp.tasks import attachments, cc_views, signing_views, views  # noqa: E402,F401
