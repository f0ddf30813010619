"""Base schema for task forms: Chinese schema messages, submission context, rule errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError

from forms.context import FormContext


class FormSchema(Schema):
    """A task form; rules read the submission context from `ctx`, set before loading."""

    error_messages = {
        "unknown": "不支持的字段",
        "type": "表单数据格式无效",
    }
    ctx: FormContext | None = None
    #: Choice fields whose options the workflow narrows: field name -> the workflow variable listing the allowed ones.
    choice_limits: ClassVar[dict[str, str]] = {}

    class Meta:
        unknown = RAISE

    @property
    def form_ctx(self) -> FormContext:
        """Return the submission context, refusing to run rules without one."""
        if self.ctx is None:
            raise RuntimeError(f"{type(self).__name__} needs a FormContext before loading")
        return self.ctx


class EntrySchema(Schema):
    """A nested list entry inside a form."""

    error_messages = {
        "unknown": "不支持的字段",
        "type": "格式无效",
    }

    class Meta:
        unknown = RAISE


class Problems:
    """Collects rule violations per field and raises them together."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field_name: str, message: str) -> None:
        """Record a violation of a rule on `field_name` ("_schema" for the whole form)."""
        self.messages.setdefault(field_name, []).append(message)

    def raise_any(self) -> None:
        """Raise a ValidationError if any violation was recorded."""
        if self.messages:
            raise ValidationError(self.messages)


def filled(data: Mapping[str, Any], name: str) -> bool:
    """Tell whether `name` holds a non-blank value in loaded form data."""
    value = data.get(name)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def blank(data: Mapping[str, Any], name: str) -> bool:
    """Tell whether `name` loaded without errors yet holds no value."""
    return name in data and not filled(data, name)
