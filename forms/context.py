"""Submission context and error type shared by every PressFlow task form."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class FormContext:
    """Facts about the submission that the form rules need but the form data lacks."""

    today: date
    add_workdays: Callable[[date, int], tuple[date, bool]]
    #: The kinds of document attached so far (read only when a form's rule asks, so it may be lazy).
    attachment_kinds: Container[str] = frozenset()
    workflow_data: Mapping[str, Any] = field(default_factory=dict)
    #: Facts from the database a form's rules need, e.g. ``spokesperson_places`` (how many more a unit may file).
    facts: Mapping[str, Any] = field(default_factory=dict)


class FormError(Exception):
    """Raised when submitted form data breaks a field or form rule."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields: dict[str, list[str]] = {name: list(messages) for name, messages in fields.items()}
        super().__init__("；".join(f"{name}: {'，'.join(msgs)}" for name, msgs in self.fields.items()))
