"""定时发布 forms (Art. 15(七)): the series' start and control forms and the steps of one release round."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import validate, validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, filled
from forms.review import ReviewForm, review_comment

CADENCES = {"daily": "每天定时", "interval": "每隔 N 小时", "times": "每天多个时间"}
SERIES_ACTIONS = {"change": "调整发布节奏", "end": "结束系列发布"}
HQ_DECISIONS = {"approve": "同意", "return": "退回修改"}
OFFICE_CONFIRM_DECISIONS = {"confirm": "确认", "return": "退回修改"}
ROUND_STATUSES = {"held": "已举行", "cancelled": "取消本场"}
MAX_INTERVAL_HOURS = 168
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


def parse_times(text: str) -> list[str]:
    """Split "09:00, 15:00" (commas, 、 or spaces) into sorted distinct HH:MM times; raise ValueError if one is bad."""
    parts = [p for p in re.split(r"[,，、\s]+", text.strip()) if p]
    if not parts or any(not _TIME.match(p) for p in parts):
        raise ValueError(text)
    return sorted(set(parts))


def cadence_times(values: Mapping[str, Any]) -> list[str]:
    """The times of day (HH:MM) a validated daily or times cadence names; empty for an interval."""
    if values.get("cadence") == "daily":
        return [str(values["daily_time"])]
    if values.get("cadence") == "times":
        return parse_times(str(values["times"]))
    return []


def _optional_choice(label: str, options: Mapping[str, str]) -> inputs.Text:
    return inputs.Text(
        required=False, load_default="", validate=validate.OneOf(["", *options], error=inputs.INVALID_CHOICE),
        metadata={"label": label, "help": "", "ui": "choice",
                  "choices": [{"value": value, "label": name} for value, name in options.items()]},
    )


class CadenceFields(FormSchema):
    """The cadence of a series: daily at HH:MM, every N hours, or a list of times each day; an optional end."""

    daily_time = inputs.clock("每天发布时间", required=False, help_text="每天定时：如 15:00（北京时间）")
    interval_hours = inputs.count("间隔小时数", help_text="每隔 N 小时：1–168")
    times = inputs.string("每天发布时间列表", required=False, help_text="每天多个时间：如 09:00, 15:00")
    end_day = inputs.day("结束日期", required=False, help_text="可不填：由指挥部结束系列")
    end_time = inputs.clock("结束时间", required=False)

    def cadence_problems(self, data: Mapping[str, Any], problems: Problems) -> None:
        """Check the fields the chosen cadence needs."""
        cadence = data.get("cadence")
        if cadence == "daily" and not filled(data, "daily_time"):
            problems.add("daily_time", "每天定时发布须填写发布时间")
        if cadence == "interval":
            hours = data.get("interval_hours")
            if hours is None or not 1 <= hours <= MAX_INTERVAL_HOURS:
                problems.add("interval_hours", f"间隔须为 1–{MAX_INTERVAL_HOURS} 小时")
        if cadence == "times":
            try:
                parse_times(str(data.get("times") or ""))
            except ValueError:
                problems.add("times", "请填写一个或多个 HH:MM 时间，用逗号分隔，如 09:00, 15:00")
        if filled(data, "end_time") and not filled(data, "end_day"):
            problems.add("end_day", "填写结束时间时须同时填写结束日期")
        if filled(data, "end_day") and data["end_day"] < self.form_ctx.today:
            problems.add("end_day", "结束日期不能早于今天")


class SeriesSetupForm(CadenceFields):
    """定时发布系列设立: the event, who writes the releases, the cadence, the first slot, the end."""

    event = inputs.string("公共卫生事件", help_text="如：某传染病疫情防控")
    release_unit = inputs.string("发布文稿单位代码", required=False, help_text="默认 health（市卫生健康委）")
    cadence = inputs.choice("发布节奏", CADENCES)
    first_day = inputs.day("首场日期")
    first_time = inputs.clock("首场时间", help_text="北京时间；首场不早于此时间")

    @validates_schema(skip_on_field_errors=False)
    def check_cadence(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require what the cadence needs, a first day from today on and an end after the start."""
        problems = Problems()
        self.cadence_problems(data, problems)
        if filled(data, "first_day") and data["first_day"] < self.form_ctx.today:
            problems.add("first_day", "首场日期不能早于今天")
        if filled(data, "first_day") and filled(data, "end_day") and data["end_day"] < data["first_day"]:
            problems.add("end_day", "结束日期不能早于首场日期")
        problems.raise_any()


class SeriesControlForm(CadenceFields):
    """指挥部调整或结束系列: a new cadence takes effect at the next slot; ending stops new rounds."""

    action = inputs.choice("操作", SERIES_ACTIONS)
    cadence = _optional_choice("新的发布节奏", CADENCES)
    comment = review_comment()

    @validates_schema(skip_on_field_errors=False)
    def check_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        """A change needs a complete cadence."""
        problems = Problems()
        if data.get("action") == "change":
            if not filled(data, "cadence"):
                problems.add("cadence", "调整发布节奏须选择新的节奏")
            self.cadence_problems(data, problems)
        problems.raise_any()


class ReleaseTextForm(FormSchema):
    """发布文稿 (the Health Commission)."""

    release_text = inputs.text("发布文稿", max_length=20000)
    key_figures = inputs.text("主要数据", required=False, help_text="如新增、累计病例等本场发布的数据")


class HqApprovalForm(ReviewForm):
    """指挥部领导审批."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审批结论", HQ_DECISIONS)
    comment = review_comment()


class OfficeConfirmationForm(ReviewForm):
    """新闻办确认."""

    positive = frozenset({"confirm"})
    decision = inputs.choice("确认结论", OFFICE_CONFIRM_DECISIONS)
    comment = review_comment()


class RoundConferenceForm(FormSchema):
    """定时发布会记录."""

    status = inputs.choice("发布会情况", ROUND_STATUSES)
    questions = inputs.count("记者提问数")
    notes = inputs.text("情况说明", required=False, help_text="取消本场时须说明原因")

    @validates_schema(skip_on_field_errors=False)
    def check_cancel_reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        """A cancelled round says why."""
        problems = Problems()
        if data.get("status") == "cancelled" and not filled(data, "notes"):
            problems.add("notes", "取消本场时须填写原因")
        problems.raise_any()


class QuickMonitoringForm(FormSchema):
    """会后快速舆情监测."""

    summary = inputs.text("舆情概况")
    needs_follow_up = inputs.flag("需在下一场回应", help_text="舆情中有须在下一场发布会回应的问题")
