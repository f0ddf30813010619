"""What the supervisors' pages and exports show for an application: status and stuck reasons in words, table rows,
and the CSV / Excel files of the filtered list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext
from openpyxl import Workbook
from openpyxl.styles import Font

from engine.org.access import ROLE_LABELS
from engine.supervision.overview import InstanceRow, StuckReason
from engine.workdays.calendar import SHANGHAI

STATUS_LABELS = {
    "running": lazy_gettext("办理中"),
    "waiting": lazy_gettext("等待中"),
    "completed": lazy_gettext("已办结"),
    "error": lazy_gettext("异常"),
    "suspended": lazy_gettext("已挂起"),
    "terminated": lazy_gettext("已终止"),
    "in_progress": lazy_gettext("进行中（办理中或等待中）"),
    "open": lazy_gettext("未办结（含异常、挂起）"),
}
REASON_LABELS = {
    "no_progress": lazy_gettext("长期无进展"),
    "incident": lazy_gettext("流程异常"),
    "missed_timer": lazy_gettext("定时器未触发"),
    "vacant_role": lazy_gettext("岗位空缺"),
}
#: Pseudo-stages of the dashboard: applications with no open step, by status.
IDLE_STAGE_LABELS = {
    "running": lazy_gettext("（无待办环节）"),
    "waiting": lazy_gettext("等待定时器（如发布会开始时间）"),
    "error": lazy_gettext("异常中断（无待办环节）"),
    "suspended": lazy_gettext("已挂起（无待办环节）"),
}
#: A cell starting with one of these would run as a formula in Excel (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M"


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def reason_text(reason: StuckReason) -> str:
    """Say why an application is stuck, in the reader's language."""
    d = reason.detail
    if reason.kind == "incident":
        return gettext("流程异常：%(message)s", message=d.get("message") or "—")
    if reason.kind == "missed_timer":
        return gettext("定时器应于 %(due)s 触发，已超时 %(minutes)s 分钟仍未触发（定时任务进程可能未运行）",
                       due=_local(d["due"]), minutes=d["minutes"])
    if reason.kind == "no_progress":
        return gettext("已连续 %(n)s 个工作日无进展（最后进展：%(since)s）", n=d["workdays"], since=_local(d["since"]))
    if reason.kind == "vacant_role" and d.get("assignee"):
        return gettext("「%(step)s」的办理人 %(assignee)s 已停用或不再担任该岗位，其他人无法认领",
                       step=gettext(d["step"]), assignee=d["assignee"])
    if reason.kind == "vacant_role":
        roles = gettext("或").join(gettext(ROLE_LABELS.get(r, r)) for r in d.get("roles", []))
        return gettext("「%(step)s」无人可办：%(unit)s没有在岗的%(roles)s", step=gettext(d["step"]), unit=d["unit"],
                       roles=roles)
    return reason.message


def headers() -> list[str]:
    """Column titles of the exports."""
    return [gettext("编号"), gettext("标题"), gettext("申报单位"), gettext("流程"), gettext("状态"),
            gettext("当前环节"), gettext("办理人"), gettext("期限"), gettext("逾期工作日"), gettext("卡滞原因"),
            gettext("发起人"), gettext("发起时间"), gettext("最近更新")]


def export_rows(rows: Iterable[InstanceRow], process_names: dict[str, str]) -> list[list[Any]]:
    """One list of cell values per application, in the order of :func:`headers` (times as Beijing datetimes)."""
    table = []
    for row in rows:
        instance = row.instance
        table.append([
            instance.id, _safe(instance.title), _safe(instance.unit.name),
            _safe(gettext(process_names.get(instance.process_key, instance.process_key))),
            status_label(instance.status),
            "；".join(gettext(s.task.name) for s in row.steps),
            _safe("；".join(f"{gettext(s.task.name)}：{_holders(s.holders)}" for s in row.steps)),
            _naive(row.due_at), row.overdue_workdays if row.overdue_workdays is not None else "",
            _safe("；".join(reason_text(r) for r in row.stuck)), _safe(instance.started_by),
            _naive(instance.started_at), _naive(instance.updated_at),
        ])
    return table


def to_csv(table: list[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers())
    for cells in table:
        writer.writerow([c.strftime(TIME_FORMAT) if isinstance(c, dt.datetime) else c for c in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: list[list[Any]]) -> bytes:
    """An Excel workbook with one sheet: a bold header row, then one row per application."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = gettext("申请列表")
    sheet.append(headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cells in table:
        sheet.append(cells)
    for column in ("H", "L", "M"):
        for cell in sheet[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    for column, width in zip("ABCDEFGHIJKLM", (8, 40, 18, 18, 10, 30, 36, 17, 10, 50, 14, 17, 17), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _holders(names: tuple[str, ...]) -> str:
    return "、".join(names) or gettext("无人可办")


def _safe(text: str | None) -> str:
    text = text or ""
    return "'" + text if text.startswith(FORMULA_START) else text


def _naive(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: cells hold Beijing wall-clock time, as every page shows.
    return moment.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0) if moment else None


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def page_numbers(page: int, pages: int) -> list[int]:
    """The pages the pager shows something for: a link, the current page or the gap after 3 and before pages - 2.

    A handful, so a list of 100,000 applications does not loop over its 5,000 pages in the template.
    """
    return sorted(n for n in {1, 2, 3, pages - 2, pages - 1, pages, *range(page - 2, page + 3)} if 1 <= n <= pages)
