"""What the editors post (JSON, CSRF token in the X-CSRFToken header): drafts, validate and deploy.

Each endpoint also takes a form post (``xml`` field or an uploaded ``file``), so a model can be checked without the
editor. Answers are JSON; a model that fails validation is a 422 with ``problems``, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidInput, ModelError, NotFound
from engine.modeling.drafts import discard_draft as forget_draft
from engine.modeling.drafts import draft_of, save_draft
from webapp.errors import BadRequest
from webapp.extensions import db
from webapp.modeler import bp, services
from webapp.modeler.views import decision_key, decision_or_404, owner_required
from webapp.web import current_user

log = logging.getLogger(__name__)
NOTE_MAX = 500
Answer = Response | tuple[Response, int]


# --- drafts ------------------------------------------------------------------------------------


@bp.get("/<key>/draft", endpoint="draft")
@owner_required
def draft(key: str) -> Response:
    """The user's draft of a process (404 when they have none)."""
    return _draft_xml(key)


@bp.post("/<key>/draft", endpoint="save_draft")
@owner_required
def save_process_draft(key: str) -> Answer:
    """Keep the posted XML as the user's draft of the process."""
    return _save(key)


@bp.post("/<key>/draft/discard", endpoint="discard_draft")
@owner_required
def discard_process_draft(key: str) -> Answer:
    """Throw the user's draft of the process away."""
    return jsonify(discarded=forget_draft(db.session, current_user().username, key))


@bp.get("/decisions/<decision_file>/draft", endpoint="decision_draft")
@owner_required
def decision_draft(decision_file: str) -> Response:
    """The user's draft of a decision table (404 when they have none)."""
    return _draft_xml(decision_key(decision_or_404(decision_file).decision_id))


@bp.post("/decisions/<decision_file>/draft", endpoint="save_decision_draft")
@owner_required
def save_decision_draft(decision_file: str) -> Answer:
    """Keep the posted DMN as the user's draft of the decision table."""
    return _save(decision_key(decision_or_404(decision_file).decision_id))


@bp.post("/decisions/<decision_file>/draft/discard", endpoint="discard_decision_draft")
@owner_required
def discard_decision_draft(decision_file: str) -> Answer:
    """Throw the user's draft of the decision table away."""
    key = decision_key(decision_or_404(decision_file).decision_id)
    return jsonify(discarded=forget_draft(db.session, current_user().username, key))


def _draft_xml(key: str) -> Response:
    found = draft_of(db.session, current_user().username, key)
    if found is None:
        raise NotFound(_("没有保存的草稿"))
    return Response(found.xml, mimetype="application/xml", headers={"Cache-Control": "no-store"})


def _save(key: str) -> Answer:
    xml, _note = _submitted()
    try:
        saved = save_draft(db.session, current_user().username, key, xml)
    except ModelError as exc:
        return jsonify(error={"code": exc.code, "message": exc.message}), 422
    return jsonify(saved_at=saved.saved_at.isoformat())


# --- validate and deploy -----------------------------------------------------------------------


@bp.post("/<key>/validate", endpoint="validate")
@owner_required
def validate(key: str) -> Answer:
    """Check a BPMN model with the DMN files it would be deployed with: ``{valid, problems}``."""
    xml, _note = _submitted()
    problems = services.check_process(db.session, key, xml)
    return jsonify(valid=not problems, problems=problems)


@bp.post("/<key>/deploy", endpoint="deploy")
@owner_required
def deploy(key: str) -> Answer:
    """Deploy the posted BPMN as the next version of the process; running instances keep their version."""
    xml, note = _submitted(note_required=True)
    try:
        done = services.deploy_process(db.session, _runtime(), key, xml, current_user().username, note)
    except ModelError as exc:
        return _refused(exc)
    forget_draft(db.session, current_user().username, key)  # deployed: the draft has served its purpose
    return _deployed([done], key)


@bp.post("/decisions/<decision_file>/validate", endpoint="validate_decision")
@owner_required
def validate_decision(decision_file: str) -> Answer:
    """Check an edited decision table with every process that uses it."""
    xml, _note = _submitted()
    problems = services.validate_decision(db.session, decision_or_404(decision_file).decision_id, xml)
    return jsonify(valid=not problems, problems=problems)


@bp.post("/decisions/<decision_file>/deploy", endpoint="deploy_decision")
@owner_required
def deploy_decision(decision_file: str) -> Answer:
    """Deploy a new version of every process using the decision table, with the edited DMN."""
    xml, note = _submitted(note_required=True)
    decision = decision_or_404(decision_file)
    try:
        done = services.deploy_decision(db.session, _runtime(), decision.decision_id, xml,
                                        current_user().username, note)
    except ModelError as exc:
        return _refused(exc)
    forget_draft(db.session, current_user().username, decision_key(decision.decision_id))
    return _deployed(done, None)


def _deployed(deployments: list[Any], key: str | None) -> Answer:
    versions = [{"process_key": d.version.process_key, "version": d.version.version, "created": d.created,
                 "url": url_for("modeler.versions", key=d.version.process_key)} for d in deployments]
    for d in deployments:
        if d.created:
            log.info("%s deployed %s v%s: %s", d.version.deployed_by, d.version.process_key, d.version.version,
                     d.version.note)
    created = any(d.created for d in deployments)
    message = (_("已部署新版本：%(list)s", list="、".join(f"{v['process_key']} v{v['version']}" for v in versions))
               if created else _("内容与当前版本相同，未创建新版本"))
    body = {"created": created, "versions": versions, "message": message}
    if key is not None:
        body["url"] = url_for("modeler.versions", key=key)
    return jsonify(body), 201 if created else 200


def _refused(exc: ModelError) -> tuple[Response, int]:
    problems = exc.problems or [{"element_id": None, "message": exc.message}]
    return jsonify(error={"code": exc.code, "message": exc.message}, problems=problems), 422


def _submitted(note_required: bool = False) -> tuple[str, str]:
    """The model XML and note of the request: JSON ``{xml, note}``, form fields, or an uploaded ``file``."""
    body = request.get_json(silent=True) if request.is_json else None
    values: Any = body if isinstance(body, dict) else request.form
    xml, note = values.get("xml"), values.get("note") or ""
    upload = request.files.get("file")
    if upload is not None and not xml:
        xml = _decoded(upload.read())
    if not isinstance(xml, str) or not xml.strip():
        raise BadRequest(_("请提交模型的 XML（xml 字段或上传文件 file）"))
    note = note.strip() if isinstance(note, str) else ""
    if note_required and not note:
        raise InvalidInput(_("请填写部署说明"), fields={"note": [_("请说明此次修改的内容和原因")]})
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("部署说明过长"), fields={"note": [_("最多 %(n)s 个字", n=NOTE_MAX)]})
    return xml, note


def _decoded(raw: bytes) -> str:
    # Flask has already capped the request size; the validator refuses anything over the model size limit.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(_("文件须为 UTF-8 编码的 XML")) from exc


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]
