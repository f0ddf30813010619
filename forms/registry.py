"""The form registry: look up, validate and describe task forms by their form key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields

from forms import inputs
from forms.aftermath import ClosingReportForm, EscalationHandlingForm, MonitoringReportForm
from forms.annual import (
    AnnualLeaderReviewForm,
    MunicipalApprovalForm,
    OfficeEvaluationForm,
    SelfEvaluationForm,
    SpokespersonReportForm,
)
from forms.base import FormSchema
from forms.conference import (
    ConferenceRecordForm,
    HostSpeakerSelectionForm,
    PreAnnouncementForm,
    VenuePreparationForm,
)
from forms.context import FormContext, FormError
from forms.emergency import (
    EmergencyApprovalForm,
    EmergencyClosingForm,
    EmergencyReportForm,
    FirstReleaseRecordForm,
    ReleaseRecordForm,
    SituationUpdateForm,
)
from forms.interview import (
    InterviewDecisionForm,
    InterviewOutlineForm,
    InterviewRecordForm,
    InterviewRequestForm,
    InterviewRoutingForm,
    InterviewScheduleForm,
)
from forms.review import (
    ContentApprovalForm,
    LeaderReviewForm,
    OfficeTopicReviewForm,
    ReviewForm,
    SecrecyReviewForm,
    SignOpinionForm,
)
from forms.spokesperson import SpokespersonApprovalForm, SpokespersonFilingForm, SpokespersonProposalForm
from forms.timed_release import (
    HqApprovalForm,
    OfficeConfirmationForm,
    QuickMonitoringForm,
    ReleaseTextForm,
    RoundConferenceForm,
    SeriesControlForm,
    SeriesSetupForm,
)
from forms.topic import TopicApplicationForm


@dataclass(frozen=True)
class FormSpec:
    """A task form known to the engine: its key, Chinese title and schema."""

    key: str
    title: str
    schema: type[FormSchema]


_SPECS = (
    FormSpec("topic_application", "选题申报", TopicApplicationForm),
    FormSpec("leader_review", "主要负责人审核", LeaderReviewForm),
    FormSpec("secrecy_review", "保密审查", SecrecyReviewForm),
    FormSpec("office_topic_review", "新闻办选题审核", OfficeTopicReviewForm),
    FormSpec("host_speaker_selection", "发布人、主持人选定", HostSpeakerSelectionForm),
    FormSpec("content_approval", "内容审定", ContentApprovalForm),
    FormSpec("venue_preparation", "场地与直播准备", VenuePreparationForm),
    FormSpec("pre_announcement", "「重庆发布」预告", PreAnnouncementForm),
    FormSpec("conference_record", "发布会记录", ConferenceRecordForm),
    FormSpec("monitoring_report", "会后舆情报告", MonitoringReportForm),
    FormSpec("escalation_handling", "重大舆情处置", EscalationHandlingForm),
    FormSpec("closing_report", "舆情处置总结报告", ClosingReportForm),
    FormSpec("sign_opinion", "加签意见", SignOpinionForm),
    # 定时发布 (Art. 15(七))
    FormSpec("timed_series_setup", "定时发布系列设立", SeriesSetupForm),
    FormSpec("timed_series_control", "调整或结束系列发布", SeriesControlForm),
    FormSpec("round_release_text", "发布文稿", ReleaseTextForm),
    FormSpec("round_hq_approval", "指挥部领导审批", HqApprovalForm),
    FormSpec("round_office_confirmation", "新闻办确认", OfficeConfirmationForm),
    FormSpec("round_conference", "定时发布会记录", RoundConferenceForm),
    FormSpec("round_quick_monitoring", "会后快速舆情监测", QuickMonitoringForm),
    FormSpec("interview_request", "记者采访申请", InterviewRequestForm),
    FormSpec("interview_routing", "新闻办转交采访单位", InterviewRoutingForm),
    FormSpec("interview_decision", "采访单位答复", InterviewDecisionForm),
    FormSpec("interview_outline", "登记采访提纲", InterviewOutlineForm),
    FormSpec("interview_schedule", "安排采访", InterviewScheduleForm),
    FormSpec("interview_record", "采访记录", InterviewRecordForm),
    FormSpec("self_evaluation", "单位年度自评", SelfEvaluationForm),
    FormSpec("spokesperson_report", "新闻发言人年度工作报告和计划", SpokespersonReportForm),
    FormSpec("annual_leader_review", "主要负责人审核年度自评和报告", AnnualLeaderReviewForm),
    FormSpec("office_evaluation", "新闻办年度考评", OfficeEvaluationForm),
    FormSpec("municipal_approval", "市政府审定考评结果", MunicipalApprovalForm),
    FormSpec("emergency_report", "突发事件报告及首发稿", EmergencyReportForm),
    FormSpec("emergency_approval", "应急发布审批", EmergencyApprovalForm),
    FormSpec("first_release_record", "首发记录", FirstReleaseRecordForm),
    FormSpec("release_record", "续报发布记录", ReleaseRecordForm),
    FormSpec("situation_update", "事态进展与续报", SituationUpdateForm),
    FormSpec("emergency_closing", "应急发布总结", EmergencyClosingForm),
    FormSpec("spokesperson_proposal", "新闻发言人任命报备", SpokespersonProposalForm),
    FormSpec("spokesperson_approval", "新闻发言人任命审核", SpokespersonApprovalForm),
    FormSpec("spokesperson_filing", "新闻发言人备案", SpokespersonFilingForm),
)
_BY_KEY = {spec.key: spec for spec in _SPECS}

FORM_KEYS: tuple[str, ...] = tuple(spec.key for spec in _SPECS)


def form_spec(form_key: str) -> FormSpec:
    """Return the registered form for `form_key`, raising KeyError if there is none."""
    try:
        return _BY_KEY[form_key]
    except KeyError:
        raise KeyError(f"unknown form key: {form_key!r}") from None


def form_title(form_key: str) -> str:
    """Return the Chinese title of the form."""
    return form_spec(form_key).title


def marshmallow_schema(form_key: str) -> type[Schema]:
    """Return the marshmallow schema class of the form, e.g. for OpenAPI generation."""
    return form_spec(form_key).schema


def validate_form(form_key: str, data: Mapping[str, Any], ctx: FormContext) -> dict[str, Any]:
    """Validate submitted form data and return it as JSON-ready values, or raise FormError."""
    schema = form_spec(form_key).schema()
    schema.ctx = ctx
    try:
        loaded = schema.load(data)
    except ValidationError as error:
        raise FormError(_flatten_errors(schema, error.messages)) from None
    return schema.dump(loaded)


def decision_field(form_key: str) -> str | None:
    """Return the name of the field holding the review decision, or None for non-review forms."""
    return "decision" if issubclass(form_spec(form_key).schema, ReviewForm) else None


def positive_decisions(form_key: str) -> frozenset[str]:
    """Return the decisions that let the application proceed (empty for non-review forms)."""
    schema = form_spec(form_key).schema
    return schema.positive if issubclass(schema, ReviewForm) else frozenset()


def describe_form(form_key: str, workflow_data: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Describe the form's fields for clients to render; with the task's data, offer only the allowed choices."""
    schema = form_spec(form_key).schema
    described = _describe_fields(schema().fields)
    for entry in described:
        allowed = (workflow_data or {}).get(schema.choice_limits.get(entry["name"], ""))
        if entry["choices"] is not None and isinstance(allowed, list | tuple):
            entry["choices"] = [c for c in entry["choices"] if c["value"] in allowed]
    return described


def _describe_fields(schema_fields: Mapping[str, fields.Field]) -> list[dict[str, Any]]:
    described = []
    for name, field in schema_fields.items():
        entry: dict[str, Any] = {
            "name": name,
            "type": _field_type(field),
            "label": field.metadata.get("label", name),
            "required": field.required,
            "choices": [dict(option) for option in field.metadata["choices"]]
            if "choices" in field.metadata
            else None,
            "help": field.metadata.get("help", ""),
        }
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            entry["item_fields"] = _describe_fields(field.inner.schema.fields)
        described.append(entry)
    return described


def _field_type(field: fields.Field) -> str:
    if "ui" in field.metadata:
        return field.metadata["ui"]
    kinds: tuple[tuple[type[fields.Field], str], ...] = (
        (fields.List, "list"),
        (fields.Boolean, "boolean"),
        (fields.Integer, "integer"),
        (inputs.Day, "date"),
        (inputs.Clock, "time"),
    )
    for field_class, kind in kinds:
        if isinstance(field, field_class):
            return kind
    return "string"


def _flatten_errors(schema: Schema, messages: Any) -> dict[str, list[str]]:
    if not isinstance(messages, Mapping):
        return {"_schema": _texts(messages)}
    flattened: dict[str, list[str]] = {}
    for name, detail in messages.items():
        field = schema.fields.get(name)
        if isinstance(detail, Mapping) and isinstance(field, fields.List):
            flattened[str(name)] = _entry_texts(field, detail)
        else:
            flattened[str(name)] = _texts(detail)
    return flattened


def _entry_texts(field: fields.List, detail: Mapping[Any, Any]) -> list[str]:
    inner = field.inner.schema.fields if isinstance(field.inner, fields.Nested) else {}
    texts: list[str] = []
    for index, entry_detail in sorted(detail.items(), key=lambda item: str(item[0])):
        position = f"第 {int(index) + 1} 项" if str(index).isdigit() else str(index)
        if isinstance(entry_detail, Mapping):
            for name, problem in entry_detail.items():
                if name == "_schema":
                    prefix = position
                elif name in inner:
                    prefix = f"{position}「{inner[name].metadata.get('label', name)}」"
                else:
                    prefix = f"{position}「{name}」"
                texts.extend(f"{prefix}：{text}" for text in _texts(problem))
        else:
            texts.extend(f"{position}：{text}" for text in _texts(entry_detail))
    return texts


def _texts(detail: Any) -> list[str]:
    if isinstance(detail, str):
        return [detail]
    if isinstance(detail, Mapping):
        return [text for value in detail.values() for text in _texts(value)]
    return [text for item in detail for text in _texts(item)]
