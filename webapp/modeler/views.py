"""Pages of the modeler blueprint: the models overview, a process's versions and the BPMN and DMN editors."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

import forms
from engine.errors import Forbidden, NotFound
from engine.modeling.drafts import draft_of
from engine.org.access import ROLE_LABELS, ROLES, may_model
from engine.workflow.deploy import latest_version
from webapp.extensions import db
from webapp.i18n import translate
from webapp.modeler import bp, services
from webapp.modeler.cc_panel import cc_panel_config
from webapp.web import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])
#: What a BPMN id may look like (an XML NCName, without the exotic letters): a new process is created under it.
PROCESS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")


def owner_required(view: F) -> F:
    """Only process owners and admins: everyone else is refused (403)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not may_model(current_user()):
            raise Forbidden(_("只有流程管理员和系统管理员可以查看和修改流程模型"))
        return view(*args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


@bp.get("/", endpoint="index")
@owner_required
def index() -> str:
    """Every process and decision model: current version, running instances per version, who deployed when."""
    processes, decisions = services.process_summaries(db.session), services.decision_summaries(db.session)
    deployers = [p.current.deployed_by for p in processes] + [d.since.deployed_by for d in decisions]
    return render_template("modeler/index.html", processes=processes, decisions=decisions,
                           names=services.display_names(db.session, deployers))


@bp.get("/new", endpoint="new")
@owner_required
def new() -> WerkzeugResponse:
    """Start a new process under the id given (``?key=``) in the editor, or say why that id will not do."""
    key = request.args.get("key", "").strip()
    if not PROCESS_KEY.fullmatch(key):
        flash(_("流程 ID 须以字母或下划线开头，只含字母、数字、下划线、连字符和点，最长 100 个字符。"), "error")
        return redirect(url_for("modeler.index"))
    if latest_version(db.session, key) is not None:
        flash(_("流程 %(key)s 已存在：已打开它的编辑器。", key=key), "warning")
    return redirect(url_for("modeler.edit", key=key))


@bp.get("/<key>", endpoint="versions")
@owner_required
def versions(key: str) -> str:
    """The versions of one process, newest first: note, content hash, running instances and what each changed."""
    found = services.versions_of(db.session, key)
    return render_template("modeler/versions.html", key=key, versions=found,
                           changes=services.changes_from_previous(db.session, key, found),
                           names=services.display_names(db.session, [v.deployed_by for v in found]))


@bp.get("/<key>/v<int:number>.bpmn", endpoint="version_xml")
@owner_required
def version_xml(key: str, number: int) -> Response:
    """The BPMN of one deployed version (``?download=1`` saves it as a file)."""
    return _xml(services.version_of(db.session, key, number).bpmn_xml, f"{key}-v{number}.bpmn")


@bp.get("/<key>/edit", endpoint="edit")
@owner_required
def edit(key: str) -> str:
    """The BPMN editor, opened on the user's draft if they saved one, else on the current version."""
    if not PROCESS_KEY.fullmatch(key):
        raise NotFound(_("流程 %(key)s 不存在", key=key))
    current = latest_version(db.session, key)
    urls = {name: url_for(f"modeler.{endpoint}", key=key) for name, endpoint in (
        ("draft", "draft"), ("saveDraft", "save_draft"), ("discardDraft", "discard_draft"),
        ("validate", "validate"), ("deploy", "deploy"), ("versions", "versions"))}
    urls["source"] = url_for("modeler.version_xml", key=key, number=current.version) if current else None
    config = _editor_config("bpmn", key, current, urls) | {"fileName": f"{key}.bpmn", "blank": blank_bpmn(key),
                                                           "pressflow": _panel_config()}
    return render_template("modeler/edit.html", key=key, current=current, config=config, draft=config["draft"])


@bp.get("/decisions/<decision_file>/edit", endpoint="edit_decision")
@owner_required
def edit_decision(decision_file: str) -> str:
    """The DMN editor for a decision table that the deployed processes use."""
    decision = decision_or_404(decision_file)
    urls = {name: url_for(f"modeler.{endpoint}", decision_file=decision.file) for name, endpoint in (
        ("source", "decision_xml"), ("draft", "decision_draft"), ("saveDraft", "save_decision_draft"),
        ("discardDraft", "discard_decision_draft"), ("validate", "validate_decision"),
        ("deploy", "deploy_decision"))}
    urls["versions"] = url_for("modeler.index")
    config = _editor_config("dmn", decision_key(decision.decision_id), None, urls) | {"fileName": decision.file}
    return render_template("modeler/edit_decision.html", decision=decision, config=config, draft=config["draft"])


@bp.get("/decisions/<decision_file>", endpoint="decision_xml")
@owner_required
def decision_xml(decision_file: str) -> Response:
    """The current DMN file of a decision table."""
    decision = decision_or_404(decision_file)
    return _xml(services.decision_xml(db.session, decision.decision_id), decision.file)


def decision_key(decision_id: str) -> str:
    """The key under which drafts of a decision table are kept (``:`` cannot occur in a process id)."""
    return f"dmn:{decision_id}"


def decision_or_404(decision_file: str) -> services.DecisionSummary:
    """The decision table a URL names (``host_speaker.dmn``), or NotFound."""
    stem = decision_file.removesuffix(".dmn")
    found = [d for d in services.decision_summaries(db.session) if d.decision_id == stem]
    if not found or not decision_file.endswith(".dmn"):
        raise NotFound(_("决策表 %(id)s 不存在", id=decision_file))
    return found[0]


def _editor_config(kind: str, draft_key: str, current: Any, urls: dict[str, Any]) -> dict[str, Any]:
    draft = draft_of(db.session, current_user().username, draft_key)
    return {
        "kind": kind, "key": draft_key, "urls": urls,
        "version": current.version if current is not None else None,
        "draft": {"savedAt": draft.saved_at.isoformat()} if draft else None,
        "moddle": url_for("static", filename="js/spiffworkflow-moddle.json"), "text": _texts(),
    }


def _texts() -> dict[str, str]:
    """What the editor script says, in the page's language (%s marks a value the script fills in)."""
    return {
        "loading": _("正在加载模型…"), "loadFailed": _("模型加载失败：%s"),
        "openedDeployed": _("已打开当前部署的版本。"), "openedDraft": _("已打开您保存的草稿（%s）。"),
        "openedBlank": _("新流程：从空白图开始。"), "openedFile": _("已打开文件 %s（尚未保存）。"),
        "importWarnings": _("导入时有 %s 条警告，部分内容可能未被识别（详见浏览器控制台）。"),
        "draftSaved": _("草稿已保存（%s）。"), "draftFailed": _("草稿保存失败：%s"),
        "draftDiscarded": _("草稿已放弃，已打开当前部署的版本。"), "validating": _("正在校验…"),
        "valid": _("校验通过：没有发现问题。"), "problemsFound": _("发现 %s 个问题。"),
        "wholeModel": _("整个模型"), "elementMissing": _("图中找不到元素 %s"), "deploying": _("正在部署…"),
        "deployFailed": _("部署未成功：%s"), "noteRequired": _("请填写部署说明。"),
        "versionsLink": _("查看版本列表"), "network": _("无法连接服务器，请稍后重试。"),
        "unsaved": _("有未保存的修改。"),
        "drd": _("决策需求图"), "table": _("决策表"),
    }


def blank_bpmn(key: str) -> str:
    """A new, empty process: one start event, drawn, with the spiffworkflow namespace declared."""
    return render_template("modeler/blank.bpmn", key=key)


def _panel_config() -> dict[str, Any]:
    """The choices and texts of the PressFlow group in the properties panel, in the page's language."""
    return {
        "forms": [{"value": key, "label": f"{translate(forms.form_title(key))}（{key}）"} for key in forms.FORM_KEYS],
        "roles": [{"value": role, "label": translate(ROLE_LABELS.get(role, role))} for role in ROLES],
        "cc": cc_panel_config(),
        "text": {"group": _("PressFlow 属性"), "form": _("表单"), "due": _("办理期限（工作日）"),
                 "dueHours": _("办理期限（小时，应急发布用；与工作日二选一）"),
                 "dueInvalid": _("请输入不小于 0 的整数。"), "laneRole": _("泳道对应的角色"),
                 "laneRoleHelp": _("未设置时按泳道 ID（Lane_角色）对应角色。"), "unset": _("（未设置）"),
                 "unknownValue": _("%s（未知）"),
                 "signRule": _("多人审批方式"), "signAll": _("会签（全部审批）"), "signAny": _("或签（一人审批即可）"),
                 "signSequential": _("依次审批（按名单顺序逐一审批）"),
                 "signRuleHelp": _("每位审批人一个任务，名单来自多实例的输入集合。")},
    }


def _xml(xml: str, filename: str) -> Response:
    response = Response(xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "no-store"
    if request.args.get("download"):
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
