"""Moving running applications to a newer version (preview, then bulk), and dry runs of a version."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _

from engine.errors import InvalidInput
from engine.modeling import migration
from engine.modeling.dry_run import dry_run_version
from engine.workdays.store import load_calendar
from webapp.extensions import db
from webapp.modeler import bp, services
from webapp.modeler.views import owner_required
from webapp.web import current_user


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


def _instance_ids() -> list[int]:
    raw = request.form.getlist("instance_id")
    if not raw or not all(value.isdigit() for value in raw) or len(raw) > 500:
        raise InvalidInput(_("请至少选择一个申请（最多 500 个）"))
    return [int(value) for value in raw]


def _version_arg(name: str) -> int | None:
    value = request.values.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(_("版本号须为正整数"))
    return int(value)


@bp.get("/<key>/migrate", endpoint="migrate")
@owner_required
def migrate(key: str) -> str:
    """Running applications on older versions, filterable by version and current step."""
    versions = services.versions_of(db.session, key)
    at_step = request.args.get("at_step", "").strip()[:100] or None
    candidates = migration.migration_candidates(db.session, _runtime(), key, from_version=_version_arg("from_version"),
                                                at_step=at_step)
    return render_template("modeler/migrate.html", key=key, versions=versions, candidates=candidates,
                           at_step=at_step or "", from_version=request.args.get("from_version", ""))


@bp.post("/<key>/migrate/preview", endpoint="migrate_preview")
@owner_required
def migrate_preview(key: str) -> str:
    """What moving each chosen application would change, and which cannot move and why. Saves nothing."""
    previews = migration.preview_migration(db.session, _runtime(), current_user(), key, _instance_ids())
    return render_template("modeler/migrate_preview.html", key=key, previews=previews,
                           target=services.versions_of(db.session, key)[0])


@bp.post("/<key>/migrate/run", endpoint="migrate_run")
@owner_required
def migrate_run(key: str) -> str:
    """Move the chosen applications, each on its own; one failure does not stop the others."""
    note = request.form.get("note", "").strip()[:500]
    results = migration.migrate_instances(db.session, _runtime(), current_user(), key, _instance_ids(), note=note)
    return render_template("modeler/migrate_results.html", key=key, results=results)


@bp.route("/<key>/dry-run", methods=["GET", "POST"], endpoint="dry_run")
@owner_required
def dry_run(key: str) -> str | tuple[str, int]:
    """Run a version against sample data in a sandbox and show the path it took."""
    versions = services.versions_of(db.session, key)
    if request.method == "GET":
        return render_template("modeler/dry_run.html", key=key, versions=versions, result=None,
                               form_data_text="", chosen=versions[0].version if versions else None)
    number = _version_arg("version") or (versions[0].version if versions else 0)
    text = request.form.get("form_data", "").strip()
    try:
        form_data = json.loads(text) if text else {}
        if not isinstance(form_data, dict):
            raise ValueError
    except ValueError:
        return render_template("modeler/dry_run.html", key=key, versions=versions, result=None, chosen=number,
                               form_data_text=text, error=_("表单数据须为 JSON 对象，键为环节 ID")), 422
    version = services.version_of(db.session, key, number)
    result = dry_run_version(version, form_data=form_data, calendar=load_calendar(db.session))
    return render_template("modeler/dry_run.html", key=key, versions=versions, result=result, chosen=number,
                           form_data_text=text, bpmn_xml=version.bpmn_xml)
