"""Forms for reporter interview requests (第十二条（六）、第六条（三）): request to record."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, blank
from forms.review import ReviewForm

REPORTER_ORIGINS = {"domestic": "境内记者", "overseas": "境外记者"}
ROUTING_DECISIONS = {"route": "转交采访单位", "decline": "不予受理"}
UNIT_DECISIONS = {"accept": "同意采访", "outline": "请记者先提供采访提纲", "decline": "不同意采访"}
INTERVIEW_STATUSES = {"held": "已接受采访", "not_held": "未进行采访"}
REASON_REQUIRED = "转交以外的处理须填写理由"

# A press card number: letters, digits and hyphens (国内记者证 is 13 digits; overseas cards vary).
_PRESS_CARD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,29}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$")
_UNIT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def unit_code(label: str, *, required: bool = True, help_text: str = "") -> inputs.Text:
    """Build a field naming a unit by its code; pages offer the units table as choices (ui ``unit``)."""
    field = inputs.string(label, required=required, max_length=50, help_text=help_text)
    field.metadata = {**field.metadata, "ui": "unit"}
    return field


class InterviewRequestForm(FormSchema):
    """记者采访申请: entered by the Office or sent through the public form."""

    outlet = inputs.string("新闻媒体", max_length=100)
    reporter_name = inputs.string("记者姓名", max_length=50)
    origin = inputs.choice("境内 / 境外", REPORTER_ORIGINS)
    nationality = inputs.string("国籍", max_length=50)
    press_card_no = inputs.string("记者证号", max_length=30, help_text="字母、数字或连字符，4–30 位")
    contact = inputs.string("联系方式", max_length=200, help_text="电话或电子邮箱")
    topic = inputs.text("采访主题", max_length=1000)
    wished_unit = unit_code("希望采访的单位")
    wished_from = inputs.day("希望采访日期（起）")
    wished_to = inputs.day("希望采访日期（止）")
    outline_attached = inputs.flag("已附采访提纲")

    @validates_schema(skip_on_field_errors=True)
    def check_request(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Check the card number, the contact, the unit code and that the wished dates lie ahead in order."""
        problems = Problems()
        if not _PRESS_CARD.match(data["press_card_no"].strip()):
            problems.add("press_card_no", "记者证号只能由字母、数字和连字符组成，4–30 位")
        contact = data["contact"].strip()
        if not (_PHONE.match(contact) or _EMAIL.match(contact)):
            problems.add("contact", "请填写有效的电话号码或电子邮箱")
        if not _UNIT_CODE.match(data["wished_unit"].strip()):
            problems.add("wished_unit", "单位代码只能由字母、数字、下划线和连字符组成")
        if data["wished_from"] < self.form_ctx.today:
            problems.add("wished_from", "希望采访日期不能早于今天")
        if data["wished_to"] < data["wished_from"]:
            problems.add("wished_to", "结束日期不能早于开始日期")
        problems.raise_any()


class InterviewRoutingForm(ReviewForm):
    """新闻办转交采访单位: route to the unit, or decline with reasons."""

    positive = frozenset({"route"})
    decision = inputs.choice("处理结果", ROUTING_DECISIONS)
    unit = unit_code("采访单位", required=False, help_text="转交时必填")
    comment = inputs.text("意见", required=False, max_length=1000, help_text="不予受理时须填写理由")

    @validates_schema(skip_on_field_errors=False)
    def check_unit(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require the unit when routing."""
        if data.get("decision") == "route" and blank(data, "unit"):
            problems = Problems()
            problems.add("unit", "转交时须选择采访单位")
            problems.raise_any()


class InterviewDecisionForm(ReviewForm):
    """采访单位答复: accept, ask for an outline first, or decline with reasons."""

    positive = frozenset({"accept"})
    decision = inputs.choice("答复", UNIT_DECISIONS)
    comment = inputs.text("意见", required=False, max_length=1000,
                          help_text="要求提纲时写明提纲应涵盖的内容；不同意时写明理由")


class InterviewOutlineForm(FormSchema):
    """新闻办登记采访提纲 (第六条（三）: 可请记者提前提供采访提纲)."""

    received_on = inputs.day("收到提纲日期")
    outline = inputs.text("采访提纲", max_length=4000)

    @validates_schema(skip_on_field_errors=True)
    def check_received(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse an outline received in the future."""
        if data["received_on"] > self.form_ctx.today:
            problems = Problems()
            problems.add("received_on", "收到日期不能晚于今天")
            problems.raise_any()


class InterviewScheduleForm(FormSchema):
    """安排采访: date, time, place and who gives the interview."""

    interview_date = inputs.day("采访日期")
    interview_time = inputs.clock("采访时间")
    place = inputs.string("采访地点", max_length=200, help_text="本单位、媒体办公场所或符合形象的安全场所，或网络连线")
    interviewee = inputs.string("受访人", max_length=100)

    @validates_schema(skip_on_field_errors=True)
    def check_date(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Schedule the interview today or later."""
        if data["interview_date"] < self.form_ctx.today:
            problems = Problems()
            problems.add("interview_date", "采访日期不能早于今天")
            problems.raise_any()


class InterviewRecordForm(FormSchema):
    """采访记录: held (summary) or not held (reason)."""

    interview_status = inputs.choice("采访情况", INTERVIEW_STATUSES)
    summary = inputs.text("采访纪要", required=False, max_length=4000, help_text="已接受采访时必填")
    reason = inputs.text("未进行原因", required=False, max_length=1000, help_text="未进行采访时必填")

    @validates_schema(skip_on_field_errors=True)
    def check_record(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require the summary of a held interview and the reason for one not held."""
        problems = Problems()
        if data["interview_status"] == "held" and blank(data, "summary"):
            problems.add("summary", "已接受采访时须填写采访纪要")
        if data["interview_status"] == "not_held" and blank(data, "reason"):
            problems.add("reason", "未进行采访时须填写原因")
        problems.raise_any()
