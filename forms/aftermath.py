"""Forms for after the conference: public-opinion monitoring, escalation and closing."""

from __future__ import annotations

from forms import inputs
from forms.base import FormSchema


class MonitoringReportForm(FormSchema):
    """会后舆情报告."""

    coverage_summary = inputs.text("媒体报道情况", max_length=2000)
    public_reaction = inputs.text("社会反响", max_length=2000)
    major_issue = inputs.flag("是否出现重大舆情", help_text="选“是”将转入重大舆情处置")
    report = inputs.text("舆情报告", max_length=5000)


class EscalationHandlingForm(FormSchema):
    """重大舆情处置."""

    measures = inputs.text("处置措施", max_length=5000)
    comment = inputs.text("处置意见", required=False, max_length=1000)


class ClosingReportForm(FormSchema):
    """舆情处置总结报告."""

    summary = inputs.text("处置总结", max_length=5000)
    resolved = inputs.flag("舆情已平息")
