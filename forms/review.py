"""Review forms: each step records a decision and, unless it is positive, the reasons."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import validates_schema

from forms import inputs
from forms.base import FormSchema, Problems, blank

COMMENT_REQUIRED = "退回或不同意时须填写审批意见"

APPROVAL_DECISIONS = {"approve": "同意", "return": "退回修改", "reject": "不同意"}
SECRECY_DECISIONS = {"pass": "通过", "return": "退回修改"}
SIGN_DECISIONS = {"agree": "同意", "disagree": "不同意"}
OFFICE_DECISIONS = {"accept": "受理", "return": "退回修改", "decline": "不予受理"}


def review_comment() -> inputs.Text:
    """Build the comment field shared by every review form."""
    return inputs.text("审批意见", required=False, max_length=1000, help_text="退回修改或不同意时须填写理由")


class ReviewForm(FormSchema):
    """A review step; subclasses declare `decision` and `comment` and the positive decisions."""

    positive: ClassVar[frozenset[str]] = frozenset()

    @validates_schema(skip_on_field_errors=False)
    def check_comment(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require a comment whenever the decision is not positive."""
        problems = Problems()
        decision = data.get("decision")
        if decision is not None and decision not in self.positive and blank(data, "comment"):
            problems.add("comment", COMMENT_REQUIRED)
        problems.raise_any()


class LeaderReviewForm(ReviewForm):
    """主要负责人审核."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审核结论", APPROVAL_DECISIONS)
    comment = review_comment()


class SecrecyReviewForm(ReviewForm):
    """保密审查."""

    positive = frozenset({"pass"})
    decision = inputs.choice("审查结论", SECRECY_DECISIONS)
    comment = review_comment()


class OfficeTopicReviewForm(ReviewForm):
    """新闻办选题审核."""

    positive = frozenset({"accept"})
    decision = inputs.choice("审核结论", OFFICE_DECISIONS)
    comment = review_comment()


class ContentApprovalForm(ReviewForm):
    """内容审定."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审定结论", APPROVAL_DECISIONS)
    comment = review_comment()


class SignOpinionForm(ReviewForm):
    """加签意见: an added approver's opinion on the step the holder added him to."""

    positive = frozenset({"agree"})
    decision = inputs.choice("加签意见", SIGN_DECISIONS)
    comment = review_comment()
