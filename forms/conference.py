"""Forms for preparing and holding the conference: people, venue, announcement, record."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from marshmallow import post_load, validates_schema

from forms import inputs
from forms.base import EntrySchema, FormSchema, Problems, blank

SPEAKER_ROLES = {
    "mayor": "市长",
    "vice_mayor": "副市长",
    "secretary_general": "秘书长",
    "deputy_secretary_general": "副秘书长",
    "unit_principal": "申报单位主要负责人",
    "unit_spokesperson": "申报单位新闻发言人",
    "authorized_official": "授权负责人",
}
HOST_ROLES = {
    "municipal_spokesperson": "市政府新闻发言人",
    "spokesperson_assistant": "发言人助理",
}
CONFERENCE_STATUSES = {
    "held": "如期举行",
    "postponed": "延期",
    "cancelled": "取消",
}


class GuestEntry(EntrySchema):
    """One guest who attends the conference beside the speaker."""

    name = inputs.string("姓名", max_length=50)
    title = inputs.string("职务", max_length=100)


class HostSpeakerSelectionForm(FormSchema):
    """发布人、主持人选定."""

    speaker_name = inputs.string("发布人姓名", max_length=50)
    speaker_role = inputs.choice("发布人身份", SPEAKER_ROLES, help_text="须在本次发布规格允许的身份范围内")
    host_name = inputs.string("主持人姓名", max_length=50)
    host_role = inputs.choice("主持人身份", HOST_ROLES, help_text="须在本次发布规格允许的身份范围内")
    guests = inputs.entries("出席嘉宾", GuestEntry, help_text="可选，逐位填写姓名和职务")

    choice_limits: ClassVar[dict[str, str]] = {
        "speaker_role": "eligible_speaker_roles", "host_role": "eligible_host_roles"}

    @validates_schema(skip_on_field_errors=False)
    def check_eligibility(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Keep the chosen roles within the ranges the decision table allowed."""
        workflow_data = self.form_ctx.workflow_data
        problems = Problems()
        if "eligible_speaker_roles" not in workflow_data or "eligible_host_roles" not in workflow_data:
            problems.add("_schema", "尚未确定本次发布可选的发布人、主持人身份范围，请联系新闻办处理")
            problems.raise_any()
        checks = (
            ("speaker_role", "发布人", SPEAKER_ROLES, workflow_data["eligible_speaker_roles"]),
            ("host_role", "主持人", HOST_ROLES, workflow_data["eligible_host_roles"]),
        )
        for field_name, who, labels, eligible in checks:
            chosen = data.get(field_name)
            if chosen is not None and chosen not in eligible:
                problems.add(field_name, _ineligible_message(who, labels, eligible))
        problems.raise_any()


def _ineligible_message(who: str, labels: Mapping[str, str], eligible: Any) -> str:
    allowed = [labels.get(role, str(role)) for role in eligible or ()]
    if not allowed:
        return f"本次发布没有可选的{who}身份，请联系新闻办处理"
    return f"本次发布的{who}须为以下身份之一：{'、'.join(allowed)}"


class VenuePreparationForm(FormSchema):
    """场地与直播准备."""

    venue_confirmed = inputs.confirmation("场地已落实", "须确认场地已落实")
    venue_name = inputs.string("场地名称", max_length=100)
    live_stream_ready = inputs.confirmation("直播已准备就绪", "须确认直播准备已就绪")
    notes = inputs.text("备注", required=False, max_length=1000)


class PreAnnouncementForm(FormSchema):
    """「重庆发布」预告."""

    published = inputs.confirmation("预告已发布", "须确认已在「重庆发布」发布预告")
    announcement_url = inputs.link("预告链接", help_text="以 http:// 或 https:// 开头")
    published_on = inputs.day("预告发布日期")


class ConferenceRecordForm(FormSchema):
    """发布会记录."""

    conference_status = inputs.choice("举行情况", CONFERENCE_STATUSES)
    questions_count = inputs.count("记者提问数", help_text="新闻发布会须安排记者提问")
    questions_summary = inputs.text("记者提问情况", required=False, max_length=2000)
    new_conference_date = inputs.day("延期后日期", required=False, help_text="仅在延期时填写")
    new_start_time = inputs.clock("延期后开始时间", required=False, help_text="仅在延期时填写，24 小时制")
    cancel_reason = inputs.text("取消原因", required=False, max_length=1000, help_text="仅在取消时填写")
    notes = inputs.text("备注", required=False, max_length=1000)

    @validates_schema(skip_on_field_errors=False)
    def check_record(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require what each outcome of the conference needs to be recorded."""
        ctx = self.form_ctx
        problems = Problems()
        status = data.get("conference_status")
        if status == "held" and ctx.workflow_data.get("kind") == "press_conference":
            if data.get("questions_count") is not None and data["questions_count"] < 1:
                problems.add("questions_count", "新闻发布会须安排记者提问")
            elif blank(data, "questions_count"):
                problems.add("questions_count", "新闻发布会须安排记者提问，请填写记者提问数")
            if blank(data, "questions_summary"):
                problems.add("questions_summary", "新闻发布会须安排记者提问，请填写记者提问情况")
        if status == "postponed":
            new_date = data.get("new_conference_date")
            if blank(data, "new_conference_date"):
                problems.add("new_conference_date", "延期时须填写新的发布日期")
            elif isinstance(new_date, date) and new_date <= ctx.today:
                problems.add("new_conference_date", f"延期后日期须晚于今天（{ctx.today.isoformat()}）")
            if blank(data, "new_start_time"):
                problems.add("new_start_time", "延期时须填写新的开始时间")
        if status == "cancelled" and blank(data, "cancel_reason"):
            problems.add("cancel_reason", "取消时须填写取消原因")
        problems.raise_any()

    @post_load
    def clear_unrelated(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Drop details that belong to a different outcome than the one recorded."""
        status = data["conference_status"]
        if status != "postponed":
            data["new_conference_date"] = None
            data["new_start_time"] = None
        if status != "cancelled":
            data["cancel_reason"] = ""
        return data
