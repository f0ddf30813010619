"""选题申报: the topic application a unit files to hold a press conference or briefing."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, blank, filled

NOTICE_WORKDAYS = 10

NAME_HOLDERS = {
    "municipal_government": "以市政府名义",
    "information_office": "以市政府新闻办名义",
}
CONFERENCE_KINDS = {
    "press_conference": "新闻发布会",
    "briefing": "新闻通报会",
}
VENUES = {
    "press_center": "市新闻发布中心",
    "other": "其他场地",
}
LIVE_STREAMS = {
    "video": "视频直播",
    "text_picture": "图文直播",
}
REQUIRED_ATTACHMENTS = {
    "work_plan": "工作方案",
    "release_text": "发布文稿",
}


class TopicApplicationForm(FormSchema):
    """选题申报表."""

    title = inputs.string("发布主题", max_length=100)
    name_holder = inputs.choice("发布名义", NAME_HOLDERS)
    kind = inputs.choice("发布形式", CONFERENCE_KINDS)
    conference_date = inputs.day(
        "拟发布日期", help_text=f"须至少提前 {NOTICE_WORKDAYS} 个工作日申报，节假日不计入工作日"
    )
    start_time = inputs.clock("开始时间", help_text="24 小时制，如 10:00")
    summary = inputs.text("主要内容", max_length=2000, help_text="简述拟发布的主要内容和背景")
    venue = inputs.choice("发布场地", VENUES)
    venue_other_reason = inputs.text(
        "选择其他场地的理由", required=False, max_length=500, help_text="仅在选择“其他场地”时填写"
    )
    live_stream = inputs.choice("直播方式", LIVE_STREAMS)

    @validates_schema(skip_on_field_errors=False)
    def check_application(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Apply the notice period, venue and attachment rules."""
        ctx = self.form_ctx
        problems = Problems()
        if isinstance(data.get("conference_date"), date):
            earliest, provisional = ctx.add_workdays(ctx.today, NOTICE_WORKDAYS)
            if data["conference_date"] < earliest:
                message = (
                    f"发布会日期须至少提前 {NOTICE_WORKDAYS} 个工作日申报，最早可选 {earliest.isoformat()}"
                )
                if provisional:
                    message += f"（{earliest.year} 年节假日安排未发布，按常规周末推算，仅供参考）"
                problems.add("conference_date", message)
        if data.get("venue") == "other" and blank(data, "venue_other_reason"):
            problems.add("venue_other_reason", "选择其他场地时须说明理由")
        if data.get("venue") == "press_center" and filled(data, "venue_other_reason"):
            problems.add("venue_other_reason", "在市新闻发布中心举办时无需填写其他场地理由，请清空此项")
        missing = [name for kind, name in REQUIRED_ATTACHMENTS.items() if kind not in ctx.attachment_kinds]
        if missing:
            problems.add("attachments", f"申报前须上传{'、'.join(missing)}")
        problems.raise_any()
