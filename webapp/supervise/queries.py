"""The supervisors' query strings: marshmallow schemas that turn them into engine criteria, or clear Chinese problems.

Messages are Simplified Chinese msgids marked with ``N_`` (a no-op that ``pybabel extract`` knows) and translated
when shown, so a bad filter never reaches the engine and never becomes a 500.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import gettext
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.models import HumanTask, Unit
from engine.supervision.overview import SORTS, STATUS_GROUPS, STATUSES, Criteria
from engine.supervision.stats import Period
from engine.workdays.calendar import SHANGHAI
from engine.workflow.deploy import latest_versions

IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
PER_PAGE = (20, 50, 100)
#: The heatmap's default period, ending today, and its longest.
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


def N_(text: str) -> str:
    """Mark a msgid for extraction without translating it now."""
    return text


FIELD_LABELS = {
    "status": N_("状态"), "unit": N_("申报单位"), "process": N_("流程"), "step": N_("当前环节"),
    "overdue": N_("逾期"), "stuck": N_("卡滞"), "from": N_("开始日期"), "to": N_("结束日期"), "q": N_("标题"),
    "sort": N_("排序"), "order": N_("排序方向"), "page": N_("页码"), "per_page": N_("每页条数"),
    "_schema": N_("筛选条件"),
}
BAD_DATE = N_("日期格式应为 YYYY-MM-DD，且须为真实日期")
BAD_BOOL = N_("只能为 1（是）或 0（否）")
BAD_PAGE = N_("页码须为正整数")
BAD_PER_PAGE = N_("每页条数只能为 20、50 或 100")
BAD_ID = N_("标识无效：只能包含字母、数字、下划线、点、冒号或连字符，不超过 100 个字符")


def _identifier() -> fields.String:
    return fields.String(validate=validate.Regexp(IDENTIFIER, error=BAD_ID))


class _SuperviseQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # tracking or future parameters are ignored, the known ones are checked

    start = fields.Date(data_key="from", error_messages={"invalid": BAD_DATE})
    end = fields.Date(data_key="to", error_messages={"invalid": BAD_DATE})
    process = _identifier()

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> dict[str, Any]:
        # An empty select or text box means "any": the form always sends every field.
        return {k: v.strip() if isinstance(v, str) else v for k, v in dict(data).items()
                if not (isinstance(v, str) and not v.strip())}

    @validates_schema
    def _ordered_dates(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(N_("开始日期不能晚于结束日期"), "from")


class SuperviseListQuery(_SuperviseQuery):
    """Filters, sort and page of the supervisors' instance list (and of its exports)."""

    status = fields.String(validate=validate.OneOf((*STATUSES, *STATUS_GROUPS), error=N_("未知的状态")))
    unit = _identifier()
    step = _identifier()
    overdue = fields.Boolean(error_messages={"invalid": BAD_BOOL})
    stuck = fields.Boolean(error_messages={"invalid": BAD_BOOL})
    q = fields.String(validate=validate.Length(max=100, error=N_("标题关键词不能超过 100 个字符")))
    sort = fields.String(load_default="started_at", validate=validate.OneOf(SORTS, error=N_("不支持按此列排序")))
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc"), error=N_("只能为 asc 或 desc")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000, error=BAD_PAGE),
                          error_messages={"invalid": BAD_PAGE})
    per_page = fields.Integer(load_default=20, validate=validate.OneOf(PER_PAGE, error=BAD_PER_PAGE),
                              error_messages={"invalid": BAD_PER_PAGE})


class SupervisePeriodQuery(_SuperviseQuery):
    """The heatmap's and the charts' period and process."""

    @validates_schema
    def _not_too_long(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days >= MAX_DAYS:
            raise ValidationError(N_("统计区间不能超过 3 年"), "from")


Problems = dict[str, list[str]]


def parse_instance_query(session: Session, args: Any) -> tuple[Criteria | None, Problems]:
    """Read the list's query string; return the criteria, or None and the problems in the reader's language."""
    loaded, problems = _load(SuperviseListQuery, args)
    if not problems:
        problems = _unknown_codes(session, loaded)
    if problems:
        return None, problems
    return Criteria(
        status=loaded.get("status"), unit=loaded.get("unit"), process=loaded.get("process"),
        step=loaded.get("step"), overdue=loaded.get("overdue"), stuck=loaded.get("stuck"),
        started_from=loaded.get("start"), started_to=loaded.get("end"), text=loaded.get("q"),
        sort=loaded["sort"], descending=loaded["order"] == "desc", page=loaded["page"], per_page=loaded["per_page"],
    ), {}


def parse_period_query(session: Session, args: Any) -> tuple[tuple[Period, str | None] | None, Problems]:
    """Read the heatmap's period (default: the last 90 days) and process (default: the first deployed)."""
    loaded, problems = _load(SupervisePeriodQuery, args)
    if not problems:
        problems = _unknown_codes(session, loaded)
    if problems:
        return None, problems
    end = loaded.get("end") or clock.now().astimezone(SHANGHAI).date()
    start = loaded.get("start") or min(end, end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        return None, _translated({"from": [N_("开始日期不能晚于结束日期")]})
    process = loaded.get("process") or next((v.process_key for v in latest_versions(session)), None)
    return (Period(start, end), process), {}


def filter_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The choices of the list's select boxes: units, processes and the steps that have ever been open."""
    return {
        "unit": [(u.code, u.name) for u in session.scalars(select(Unit).order_by(Unit.kind, Unit.code))],
        "process": [(v.process_key, v.name) for v in latest_versions(session)],
        "step": _steps_ever_open(session),
    }


def _steps_ever_open(session: Session) -> list[tuple[str, str]]:
    # A GROUP BY would read every task row of years of history; this walks ix_human_tasks_step_name from one step
    # to the next instead (a skip scan: two index probes per step), whatever the number of rows.
    after = aliased(HumanTask)
    steps = select(func.min(HumanTask.bpmn_id).label("bpmn_id")).cte("steps", recursive=True)
    steps = steps.union_all(select(select(func.min(after.bpmn_id)).where(after.bpmn_id > steps.c.bpmn_id)
                                   .scalar_subquery()).where(steps.c.bpmn_id.is_not(None)))
    name = select(func.min(HumanTask.name)).where(HumanTask.bpmn_id == steps.c.bpmn_id).scalar_subquery()
    return list(session.execute(select(steps.c.bpmn_id, name).where(steps.c.bpmn_id.is_not(None))
                                .order_by(steps.c.bpmn_id)).tuples())


def _load(schema: type[Schema], args: Any) -> tuple[dict[str, Any], Problems]:
    try:
        return schema().load(args.to_dict() if hasattr(args, "to_dict") else dict(args)), {}
    except ValidationError as exc:
        messages = exc.normalized_messages()
        return {}, _translated({k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()})


def _unknown_codes(session: Session, loaded: dict[str, Any]) -> Problems:
    problems: Problems = {}
    if loaded.get("unit") and session.scalar(select(Unit.id).where(Unit.code == loaded["unit"])) is None:
        problems["unit"] = [gettext("没有代码为 “%(code)s” 的单位", code=loaded["unit"])]
    if loaded.get("process") and loaded["process"] not in {v.process_key for v in latest_versions(session)}:
        problems["process"] = [gettext("没有标识为 “%(key)s” 的流程", key=loaded["process"])]
    return problems


def _translated(problems: dict[str, list[Any]]) -> Problems:
    return {name: [gettext(str(m)) for m in messages] for name, messages in problems.items()}


def field_label(name: str) -> str:
    """The reader's name of a query parameter, for error messages."""
    return gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name
