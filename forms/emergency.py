"""Forms of an emergency release (突发事件信息发布, Art. 12(四), 5(四)): report, approvals, releases, closing."""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, blank
from forms.review import ReviewForm, review_comment

EMERGENCY_LEVELS = {"major": "较大突发事件", "ordinary": "一般突发事件"}
EMERGENCY_DECISIONS = {"approve": "同意发布", "return": "退回修改"}
NEXT_STEPS = {"update": "发布续报", "close": "事件处置结束"}


class EmergencyReportForm(FormSchema):
    """突发事件报告及首发稿."""

    title = inputs.string("事件名称", max_length=100)
    level = inputs.choice("事件级别", EMERGENCY_LEVELS,
                          help_text="较大和一般突发事件由事发地行政机关发布（第十二条）")
    situation = inputs.text("事件概况", max_length=2000)
    first_release = inputs.text("首发稿", max_length=5000, help_text="第一时间发布的权威信息")
    first_speaker = inputs.string("出面发布的主要负责人", max_length=60,
                                  help_text="主要负责人第一时间出面发布（第五条（四））")


class EmergencyApprovalForm(ReviewForm):
    """主要负责人审批（首发稿或续报）."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审批结论", EMERGENCY_DECISIONS)
    comment = review_comment()


class ReleaseRecordForm(FormSchema):
    """发布记录（续报）."""

    channels = inputs.string("发布渠道", max_length=200, help_text="如「重庆发布」、政府网站、新闻发布会")
    speaker = inputs.string("发布人", max_length=60)
    published = inputs.confirmation("已发布", "须确认信息已发布后再提交")
    note = inputs.text("备注", required=False, max_length=1000)


class FirstReleaseRecordForm(ReleaseRecordForm):
    """首发记录: the principal leader speaks first, in person."""

    principal_in_person = inputs.confirmation("主要负责人已第一时间出面发布",
                                              "首次发布须由主要负责人第一时间出面（第五条（四））")


class SituationUpdateForm(FormSchema):
    """事态进展: draft the next rolling update, or close the event."""

    next_step = inputs.choice("下一步", NEXT_STEPS)
    update_text = inputs.text("续报稿", required=False, max_length=5000, help_text="选择“发布续报”时填写")

    @validates_schema(skip_on_field_errors=False)
    def check_update(self, data: dict[str, Any], **kwargs: Any) -> None:
        """An update needs its text."""
        problems = Problems()
        if data.get("next_step") == "update" and blank(data, "update_text"):
            problems.add("update_text", "发布续报时须填写续报稿")
        problems.raise_any()


class EmergencyClosingForm(FormSchema):
    """处置总结."""

    summary = inputs.text("发布工作总结", max_length=5000)
