"""Process owners (流程模型): the deployed models and their versions, the BPMN and DMN editors, validate and deploy."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("modeler", __name__, url_prefix="/models", template_folder="templates")

from webapp.modeler import actions, migrate, views  # noqa: E402,F401 - registers the routes on bp
