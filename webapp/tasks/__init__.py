"""Reviewers' inbox (待办 / 已办) and the task page with its actions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/tasks", template_folder="templates")

# the routes on bp: the inbox, batch approval, 常用语, the task pages, 抄送我, 加签/委派, uploads from the task form
from webapp.tasks import attachments, batch_views, cc_views, phrase_views, signing_views, views  # noqa: E402,F401
