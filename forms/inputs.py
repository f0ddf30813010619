"""Field types with Chinese messages and factories that attach labels and help text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from marshmallow.constants import missing

REQUIRED = "此项为必填项"
INVALID_CHOICE = "请选择有效的选项"
TOO_LONG = "不能超过 {max} 个字符"

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_PATTERN = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")

_BASE_MESSAGES = {"required": REQUIRED, "null": REQUIRED, "validator_failed": "输入无效"}


class NullMeansDefault(fields.Field):
    """Mixin: an optional field given null takes its default, as if it were left out."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        """Replace null with the field's default for optional fields, then deserialize."""
        if value is None and not self.required:
            value = missing
        return super().deserialize(value, attr, data, **kwargs)


class Text(NullMeansDefault, fields.String):
    """Stripped text; blank input counts as missing for required fields, as empty otherwise."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请输入文本", "invalid_utf8": "文本编码无效"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise self.make_error("required")
        return text


class Link(Text):
    """An absolute http(s) web address."""

    default_error_messages = {"invalid_url": "请输入以 http:// 或 https:// 开头的有效网址"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text:
            checker = validate.URL(schemes={"http", "https"}, require_tld=False)
            try:
                checker(text)
            except ValidationError as error:
                raise self.make_error("invalid_url") from error
        return text


class Day(fields.Date):
    """A calendar date written strictly as YYYY-MM-DD."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请输入有效日期，格式为 YYYY-MM-DD"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not _DATE_PATTERN.match(value.strip()):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            raise self.make_error("invalid") from error

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()


class Clock(fields.Time):
    """A 24-hour clock time written as HH:MM."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请输入有效时间，格式为 HH:MM（24 小时制）"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0)
        if not isinstance(value, str) or not _TIME_PATTERN.match(value.strip()):
            raise self.make_error("invalid")
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%H:%M")


class Count(fields.Integer):
    """A whole number; fractional input is refused rather than truncated."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请输入整数", "too_large": "数值过大"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Flag(NullMeansDefault, fields.Boolean):
    """A yes/no answer."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请选择是或否"}


class Items(NullMeansDefault, fields.List):
    """A list of nested entries."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "请提供列表"}


class Entry(fields.Nested):
    """One nested entry of a list."""

    default_error_messages = {**_BASE_MESSAGES, "type": "格式无效"}


def _meta(label: str, help_text: str, **extra: Any) -> dict[str, Any]:
    return {"label": label, "help": help_text, **extra}


def string(label: str, *, required: bool = True, max_length: int = 200, help_text: str = "") -> Text:
    """Build a single-line text field."""
    return Text(
        required=required,
        load_default=missing if required else "",
        validate=validate.Length(max=max_length, error=TOO_LONG),
        metadata=_meta(label, help_text),
    )


def text(label: str, *, required: bool = True, max_length: int = 2000, help_text: str = "") -> Text:
    """Build a multi-line text field."""
    return Text(
        required=required,
        load_default=missing if required else "",
        validate=validate.Length(max=max_length, error=TOO_LONG),
        metadata=_meta(label, help_text, ui="text"),
    )


def link(label: str, *, help_text: str = "") -> Link:
    """Build a required http(s) address field."""
    return Link(
        required=True, validate=validate.Length(max=500, error=TOO_LONG), metadata=_meta(label, help_text)
    )


def choice(label: str, options: Mapping[str, str], *, help_text: str = "") -> Text:
    """Build a required choice field whose options map codes to Chinese labels."""
    return Text(
        required=True,
        validate=validate.OneOf(list(options), error=INVALID_CHOICE),
        metadata=_meta(
            label,
            help_text,
            ui="choice",
            choices=[{"value": value, "label": name} for value, name in options.items()],
        ),
    )


def day(label: str, *, required: bool = True, help_text: str = "") -> Day:
    """Build a YYYY-MM-DD date field."""
    return Day(
        required=required, load_default=missing if required else None, metadata=_meta(label, help_text)
    )


def clock(label: str, *, required: bool = True, help_text: str = "") -> Clock:
    """Build an HH:MM time field."""
    return Clock(
        required=required, load_default=missing if required else None, metadata=_meta(label, help_text)
    )


def count(label: str, *, help_text: str = "") -> Count:
    """Build an optional non-negative whole-number field."""
    return Count(
        load_default=None,
        validate=validate.Range(min=0, error="不能小于 {min}"),
        metadata=_meta(label, help_text),
    )


def flag(label: str, *, help_text: str = "") -> Flag:
    """Build an optional yes/no field that defaults to no."""
    return Flag(load_default=False, metadata=_meta(label, help_text))


def confirmation(label: str, message: str, *, help_text: str = "") -> Flag:
    """Build a yes/no field that must be answered yes, explaining why with `message`."""
    return Flag(
        required=True,
        validate=validate.Equal(True, error=message),
        error_messages={"required": message, "null": message},
        metadata=_meta(label, help_text),
    )


def entries(label: str, entry: type[Schema], *, help_text: str = "") -> Items:
    """Build an optional list of nested entries that defaults to empty."""
    return Items(Entry(entry), load_default=list, metadata=_meta(label, help_text))
