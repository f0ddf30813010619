"""Routes of the supervise blueprint: dashboard, instance list and its exports, heatmap and charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine import clock
from engine.errors import Forbidden, NotFound
from engine.org.access import is_overseer
from engine.supervision.overview import Policy, Supervision
from engine.supervision.stats import charts as chart_data
from engine.supervision.stats import step_timings
from engine.worker.heartbeat import live_workers
from engine.workflow.deploy import latest_version, latest_versions
from webapp.errors import error_response
from webapp.extensions import db
from webapp.supervise import bp, queries, tables
from webapp.web import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def overseer_required(view: F) -> F:
    """Only supervisors and admins: everyone else is refused (403), whatever unit they work in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_overseer(current_user()):
            raise Forbidden(_("只有督办人员和系统管理员可以使用督办功能"))
        return view(*args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


def _supervision() -> Supervision:
    return Supervision.load(db.session, Policy.from_settings(current_app.config["PRESSFLOW"]))


@bp.get("/", endpoint="index")
@overseer_required
def index() -> str:
    """督办 dashboard: counts, breakdowns by stage, unit and process, and the stuck applications with reasons."""
    workers = live_workers(db.session, clock.now())
    return render_template("supervise/dashboard.html", board=_supervision().dashboard(), workers=workers,
                           **_helpers())


@bp.get("/instances", endpoint="instances")
@overseer_required
def instances() -> str | tuple[str, int]:
    """The filtered, sortable, paginated list of applications."""
    criteria, problems = queries.parse_instance_query(db.session, request.args)
    page = _supervision().instances(criteria) if criteria else None
    html = render_template("supervise/instances.html", page=page, criteria=criteria, problems=problems,
                           args=request.args, options=queries.filter_options(db.session), **_helpers())
    return (html, 400) if problems else html


@bp.get("/instances.<any(csv, xlsx):kind>", endpoint="export")
@overseer_required
def export(kind: str) -> Any:
    """The list with the same filters as CSV (UTF-8 with BOM) or Excel, every matching row."""
    criteria, problems = queries.parse_instance_query(db.session, request.args)
    if criteria is None:
        return error_response(400, "bad_request", _("筛选条件有误"), _labelled(problems))
    rows = _supervision().instances(replace(criteria, page=1, per_page=None)).rows
    table = tables.export_rows(rows, _process_names())
    body = tables.to_csv(table) if kind == "csv" else tables.to_xlsx(table)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    response = Response(body, mimetype=EXPORT_TYPES[kind])
    response.headers.set("Content-Disposition", "attachment", filename=f"pressflow-instances-{stamp}.{kind}")
    return response


@bp.get("/heatmap", endpoint="heatmap")
@overseer_required
def heatmap() -> str | tuple[str, int]:
    """Median and p90 time per step over a period, as a table and as colours on the process diagram."""
    parsed, problems = queries.parse_period_query(db.session, request.args)
    timings = step_timings(db.session, parsed[0], _supervision().calendar, parsed[1]) if parsed else []
    html = render_template("supervise/heatmap.html", parsed=parsed, problems=problems, timings=timings,
                           heat=[t.as_dict() for t in timings], args=request.args,
                           processes=latest_versions(db.session), **_helpers())
    return (html, 400) if problems else html


@bp.get("/charts.json", endpoint="charts")
@overseer_required
def charts() -> Any:
    """Applications per week, cycle-time distribution and overdue rate per unit, for the ECharts charts."""
    parsed, problems = queries.parse_period_query(db.session, request.args)
    if parsed is None:
        return jsonify(error={"code": "bad_request", "message": _("统计条件有误"), "fields": _labelled(problems)}), 400
    supervision = _supervision()
    return jsonify(chart_data(db.session, parsed[0], supervision.calendar, supervision.now, parsed[1]))


@bp.get("/processes/<key>/diagram.bpmn", endpoint="process_diagram")
@overseer_required
def process_diagram(key: str) -> Response:
    """The BPMN XML of the newest version of a process, for the heatmap overlay."""
    version = latest_version(db.session, key)
    if version is None:
        raise NotFound(_("流程不存在"))
    return Response(version.bpmn_xml, mimetype="application/xml")


def _helpers() -> dict[str, Any]:
    return {"instance_url": _instance_url, "list_url": _list_url, "status_label": tables.status_label,
            "reason_text": tables.reason_text, "reason_labels": tables.REASON_LABELS,
            "idle_stage_labels": tables.IDLE_STAGE_LABELS, "process_names": _process_names(),
            "field_label": queries.field_label, "status_labels": tables.STATUS_LABELS,
            "page_numbers": tables.page_numbers}


def _instance_url(instance_id: int) -> str:
    for endpoint in ("supervise.instance", "applications.show"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, instance_id=instance_id)
    return f"/applications/{instance_id}"


def _list_url(endpoint: str = "supervise.instances", keep: bool = False, **changes: Any) -> str:
    """A URL of the list (or an export) with the current filters (when ``keep``) changed by ``changes``."""
    args = {k: v for k, v in request.args.items() if v != ""} if keep else {}
    args.update({k: v for k, v in changes.items()})
    return url_for(endpoint, **{k: v for k, v in args.items() if v is not None})


def _process_names() -> dict[str, str]:
    return {v.process_key: v.name for v in latest_versions(db.session)}


def _labelled(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {queries.field_label(name): messages for name, messages in problems.items()}
