"""The data behind the instance diagram (bpmn-js): the BPMN of the instance's version and the state of its steps.

A small blueprint of its own (``/diagram``) so that the task page and the application page share it.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from engine.models import AuditEntry, HumanTask, Instance
from engine.org.access import require_visible
from webapp.extensions import db
from webapp.i18n import translated_bpmn
from webapp.tasks.signing_views import sign_overlays
from webapp.web import current_user, login_required

bp = Blueprint("diagram", __name__, url_prefix="/diagram")


@bp.get("/<int:instance_id>.bpmn", endpoint="bpmn")
@login_required
def bpmn(instance_id: int) -> Response:
    """The BPMN XML of the process version the instance runs on."""
    instance = require_visible(current_user(), db.session.get(Instance, instance_id))
    response = Response(translated_bpmn(instance.version.bpmn_xml), mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"  # a deployed version never changes
    return response


@bp.get("/<int:instance_id>/states.json", endpoint="states")
@login_required
def states(instance_id: int) -> Response:
    """Which steps are done and which are waiting now: ``{completed: [bpmn ids], current: [...], failed: [...]}``.

    ``signers`` (only when there are any) maps a step with 加签 / 委派 going on to the added people and their state.
    """
    instance = require_visible(current_user(), db.session.get(Instance, instance_id))
    rows = db.session.execute(select(HumanTask.bpmn_id, HumanTask.completed_at, HumanTask.closed_reason)
                              .where(HumanTask.instance_id == instance.id)).all()
    current = {bpmn_id for bpmn_id, completed_at, _ in rows if completed_at is None}
    done = {bpmn_id for bpmn_id, _, reason in rows if reason == "completed"}
    done |= set(db.session.scalars(select(AuditEntry.bpmn_id).where(
        AuditEntry.instance_id == instance.id, AuditEntry.action == "complete", AuditEntry.bpmn_id.is_not(None))))
    failed = [instance.incident["bpmn_id"]] if instance.incident and instance.incident.get("bpmn_id") else []
    signers = sign_overlays(instance.id)
    return jsonify(completed=sorted(done - current), current=sorted(current), failed=failed,
                   **({"signers": signers} if signers else {}))
