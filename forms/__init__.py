"""PressFlow task forms: validation and client descriptions for every human task."""

from forms.conference import CONFERENCE_STATUSES, HOST_ROLES, SPEAKER_ROLES
from forms.context import FormContext, FormError
from forms.registry import (
    FORM_KEYS,
    FormSpec,
    decision_field,
    describe_form,
    form_spec,
    form_title,
    marshmallow_schema,
    positive_decisions,
    validate_form,
)
from forms.topic import CONFERENCE_KINDS, LIVE_STREAMS, NAME_HOLDERS, REQUIRED_ATTACHMENTS, VENUES

__all__ = [
    "CONFERENCE_KINDS",
    "CONFERENCE_STATUSES",
    "FORM_KEYS",
    "HOST_ROLES",
    "LIVE_STREAMS",
    "NAME_HOLDERS",
    "REQUIRED_ATTACHMENTS",
    "SPEAKER_ROLES",
    "VENUES",
    "FormContext",
    "FormError",
    "FormSpec",
    "decision_field",
    "describe_form",
    "form_spec",
    "form_title",
    "marshmallow_schema",
    "positive_decisions",
    "validate_form",
]
