"""Annual evaluation forms (年度考评, Art. 13) and the spokesperson's annual report (Art. 9(八))."""

from __future__ import annotations

from typing import Any

from marshmallow import validate, validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, blank
from forms.review import APPROVAL_DECISIONS, ReviewForm, review_comment

RETURN_DECISIONS = {"approve": "同意", "return": "退回修改"}
OFFICE_EVALUATION_DECISIONS = {"evaluate": "评定", "return": "退回单位修改"}
GRADES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
SCORE_REQUIRED = "评定时须填写得分和等次"


def figure(label: str) -> inputs.Count:
    """Build a required whole-number figure of the year (0 or more)."""
    return inputs.Count(required=True, validate=validate.Range(min=0, max=100000, error="须在 {min} 到 {max} 之间"),
                        metadata={"label": label, "help": ""})


class SelfEvaluationForm(FormSchema):
    """单位年度自评: the year's figures and the unit's own account of its release work."""

    conferences_held = figure("全年举办新闻发布会（场）")
    releases = figure("全年发布信息（条）")
    interviews = figure("全年接受记者采访（次）")
    incidents = figure("全年处置舆情事件（起）")
    summary = inputs.text("自评情况", max_length=5000)


class SpokespersonReportForm(FormSchema):
    """新闻发言人年度工作报告和计划 (第九条（八）: 每年向主要负责人提交)."""

    report = inputs.text("年度新闻发布工作报告", max_length=8000)
    plan = inputs.text("下一年度新闻发布工作计划", max_length=8000)


class AnnualLeaderReviewForm(ReviewForm):
    """主要负责人审核自评和发言人年度报告: 同意报送新闻办，或退回修改."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审核结论", RETURN_DECISIONS)
    comment = review_comment()


class OfficeEvaluationForm(ReviewForm):
    """新闻办年度考评: 评定得分和等次，或退回单位修改."""

    positive = frozenset({"evaluate"})
    decision = inputs.choice("考评结论", OFFICE_EVALUATION_DECISIONS)
    score = inputs.Count(load_default=None,
                         validate=validate.Range(min=0, max=100, error="得分须在 {min} 到 {max} 之间"),
                         metadata={"label": "得分（0–100）", "help": "评定时必填"})
    grade = inputs.Text(load_default="", validate=validate.OneOf([*GRADES, ""], error=inputs.INVALID_CHOICE),
                        metadata={"label": "等次", "help": "评定时必填", "ui": "choice",
                                  "choices": [{"value": k, "label": v} for k, v in GRADES.items()]})
    comment = review_comment()

    @validates_schema(skip_on_field_errors=True)
    def check_result(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require a score and a grade when the Office evaluates."""
        problems = Problems()
        if data.get("decision") == "evaluate":
            if data.get("score") is None:
                problems.add("score", SCORE_REQUIRED)
            if blank(data, "grade") or not data.get("grade"):
                problems.add("grade", SCORE_REQUIRED)
        problems.raise_any()


class MunicipalApprovalForm(ReviewForm):
    """市政府审定考评结果: 同意（发布至各单位）或退回新闻办重新评定."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审定结论", {"approve": APPROVAL_DECISIONS["approve"], "return": "退回重新评定"})
    comment = review_comment()
