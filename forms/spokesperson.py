"""Forms of the spokesperson appointment and filing (新闻发言人任命与备案, Art. 8(三)(四))."""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms import inputs
from forms.base import FormSchema, Problems
from forms.review import APPROVAL_DECISIONS, ReviewForm, review_comment

FILING_DECISIONS = {"file": "予以备案", "return": "退回修改"}


def places_message(limit: int) -> str:
    """Say that the unit already has as many filed spokespersons as it may have."""
    return f"本单位在任新闻发言人已达 {limit} 名上限，不能再备案新的新闻发言人；请先终止一名现任发言人的备案"


class SpokespersonProposalForm(FormSchema):
    """新闻发言人任命报备."""

    name = inputs.string("姓名", max_length=60)
    position = inputs.string("职务", max_length=100)
    contact = inputs.string("联系方式", max_length=100)
    username = inputs.string("系统用户名", required=False, max_length=60,
                             help_text="如填写，备案后该用户获得本单位新闻发言人角色")

    @validates_schema(skip_on_field_errors=False)
    def check_places(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a proposal the unit has no place for, and one without its appointment document."""
        ctx = self.form_ctx
        problems = Problems()
        if ctx.facts.get("spokesperson_places", 1) <= 0:
            problems.add("name", places_message(ctx.facts["spokesperson_limit"]))
        if "appointment_document" not in ctx.attachment_kinds:
            problems.add("attachments", "报备前须上传任命文件")
        problems.raise_any()


class SpokespersonApprovalForm(ReviewForm):
    """单位主要负责人审核."""

    positive = frozenset({"approve"})
    decision = inputs.choice("审核结论", APPROVAL_DECISIONS)
    comment = review_comment()


class SpokespersonFilingForm(ReviewForm):
    """新闻办备案."""

    positive = frozenset({"file"})
    decision = inputs.choice("备案结论", FILING_DECISIONS)
    comment = review_comment()
