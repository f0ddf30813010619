"""Read and check the inbox's query string (filters, sort, pages) for the page and the API alike."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Unit
from engine.org.units import UNIT_SPEC
from engine.review.inbox import SORTS, InboxQuery
from engine.workflow.deploy import latest_versions

#: A BPMN id (of a step or a process).
STEP_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
UNIT_CODE = re.compile(UNIT_SPEC)
SEARCH_MAX = 100
#: Offered in the page-size menu; any size up to PER_PAGE_MAX is accepted.
PER_PAGE_CHOICES = (10, 20, 50, 100)
PER_PAGE_MAX = 100
PER_PAGE_DEFAULT = 20
API_PER_PAGE_MAX = 200
API_PER_PAGE_DEFAULT = 100
PAGE_MAX = 100_000
PAGE_PARAMS = ("page", "queue_page", "per_page")
FILTER_PARAMS = ("process", "step", "unit", "q", "overdue", "from", "to", "sort", "order")
API_PARAMS = (*FILTER_PARAMS, "page", "per_page", "scope")
#: Parameters with a type, a pattern or a fixed set of values: the inbox form sends them empty when unused, an API
#: client omits them (an empty ``q`` is an empty search, as on the page).
TYPED_PARAMS = ("process", "step", "unit", "overdue", "from", "to", "sort", "order", "page", "per_page", "scope")


@dataclass
class InboxArgs:
    """The checked query string: what to show and which pages."""

    query: InboxQuery = field(default_factory=InboxQuery)
    page: int = 1
    queue_page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    scope: str | None = None
    #: The raw values, to fill the filter form and build page links.
    values: dict[str, str] = field(default_factory=dict)


class _Problems(dict[str, list[str]]):
    """Messages keyed by the parameter's label for people, or by the parameter itself for the API."""

    def __init__(self, api: bool) -> None:
        super().__init__()
        self.api = api

    def add(self, param: str, label: str, message: str) -> None:
        self.setdefault(param if self.api else label, []).append(message)


def parse_inbox_args(session: Session, args: Mapping[str, str], *, api: bool = False
                     ) -> tuple[InboxArgs, dict[str, list[str]]]:
    """Check every parameter; return the arguments and the problems found (label → messages, empty when fine)."""
    values = {name: str(args.get(name, "")).strip() for name in (*FILTER_PARAMS, *PAGE_PARAMS, "scope")}
    problems = _Problems(api)
    if api:
        for name in sorted(set(args) - set(API_PARAMS)):
            problems.add(name[:40], name[:40], gettext("不支持的参数"))
        for name in TYPED_PARAMS:
            if name in args and not str(args[name]).strip():
                problems.add(name, name, gettext("参数值不能为空；不按此项筛选时请省略该参数"))
    _check_filters(session, values, problems)
    created_from, created_to = _day(values, "from", problems), _day(values, "to", problems)
    if created_from and created_to and created_from > created_to:
        problems.add("from", gettext("到达日期"), gettext("开始日期不能晚于结束日期"))
    query = InboxQuery(
        process=values["process"] or None, step=values["step"] or None, unit=values["unit"] or None,
        search=values["q"] or None, overdue=_flag(values, problems), created_from=created_from,
        created_to=created_to, sort=_sort(values, problems), descending=_descending(values, problems))
    parsed = InboxArgs(query=query, page=_page(values, "page", problems),
                       queue_page=_page(values, "queue_page", problems),
                       per_page=_per_page(values, problems, api), scope=_scope(values, problems, api), values=values)
    return parsed, dict(problems)


def _check_filters(session: Session, values: dict[str, str], problems: _Problems) -> None:
    # A person picked the process and unit from a list, so an unknown one is a mistake worth naming; for an API
    # client a well-formed key that matches nothing is a filter that finds nothing (an empty page, as for a step).
    process, unit = values["process"], values["unit"]
    if problems.api:
        if process and not STEP_ID.fullmatch(process):
            problems.add("process", "process", gettext("流程标识无效（应为 BPMN 流程的 id）"))
        if unit and not UNIT_CODE.fullmatch(unit):
            problems.add("unit", "unit", gettext("单位代码无效（字母、数字、下划线、点或连字符，不超过 40 个字符）"))
    else:
        if process and process not in {v.process_key for v in latest_versions(session)}:
            problems.add("process", gettext("流程"), gettext("没有标识为 “%(v)s” 的流程", v=process[:100]))
        if unit and session.scalar(select(Unit.id).where(Unit.code == unit[:40])) is None:
            problems.add("unit", gettext("单位"), gettext("没有代码为 “%(v)s” 的单位", v=unit[:100]))
    if values["step"] and not STEP_ID.fullmatch(values["step"]):
        problems.add("step", gettext("环节"),
                     gettext("环节标识无效：只能包含字母、数字、下划线、点或连字符，不超过 100 个字符"))
    if len(values["q"]) > SEARCH_MAX:
        problems.add("q", gettext("搜索"), gettext("搜索词不能超过 %(n)s 个字符", n=SEARCH_MAX))


def _day(values: dict[str, str], name: str, problems: _Problems) -> dt.date | None:
    raw = values[name]
    if not raw:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass  # 2026-02-30 and the like: reported below like any other bad date
    label = gettext("到达日期（起）") if name == "from" else gettext("到达日期（止）")
    problems.add(name, label, gettext("“%(v)s” 不是有效日期，请按 年-月-日 填写，例如 2026-12-01", v=raw[:20]))
    return None


def _flag(values: dict[str, str], problems: _Problems) -> bool:
    raw = values["overdue"]
    if raw not in ("", "0", "1"):
        problems.add("overdue", gettext("仅看逾期"), gettext("取值只能是 1（仅看逾期）或 0"))
    return raw == "1"


def _sort(values: dict[str, str], problems: _Problems) -> str:
    raw = values["sort"] or "due"
    if raw not in SORTS:
        problems.add("sort", gettext("排序"),
                     gettext("排序方式只能是 due（期限）、created（到达时间）或 title（标题）"))
        return "due"
    return raw


def _descending(values: dict[str, str], problems: _Problems) -> bool:
    raw = values["order"] or "asc"
    if raw not in ("asc", "desc"):
        problems.add("order", gettext("顺序"), gettext("顺序只能是 asc（升序）或 desc（降序）"))
    return raw == "desc"


def _page(values: dict[str, str], name: str, problems: _Problems) -> int:
    number = _integer(values[name], 1)
    if number is None or not 1 <= number <= PAGE_MAX:
        problems.add(name, gettext("页码"), gettext("页码须为 1 到 %(n)s 之间的整数", n=PAGE_MAX))
        return 1
    return number


def _per_page(values: dict[str, str], problems: _Problems, api: bool) -> int:
    default, most = (API_PER_PAGE_DEFAULT, API_PER_PAGE_MAX) if api else (PER_PAGE_DEFAULT, PER_PAGE_MAX)
    number = _integer(values["per_page"], default)
    if number is None or not 1 <= number <= most:
        problems.add("per_page", gettext("每页条数"), gettext("每页条数须为 1 到 %(n)s 之间的整数", n=most))
        return default
    return number


def _scope(values: dict[str, str], problems: _Problems, api: bool) -> str | None:
    raw = values["scope"]
    if api and raw not in ("", "mine", "group"):
        problems.add("scope", "scope", gettext("scope 只能是 mine（已认领）或 group（待认领）"))
    return raw if raw in ("mine", "group") else None


def _integer(raw: str, default: int) -> int | None:
    if not raw:
        return default
    return int(raw) if re.fullmatch(r"\d{1,9}", raw) else None
