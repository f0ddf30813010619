"""Domain errors. The web layer maps each to an HTTP status; the engine never knows about HTTP."""

from __future__ import annotations

from typing import Any


class PressflowError(Exception):
    """Base of every error PressFlow reports to a person or a client."""

    code = "error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(PressflowError):
    """Unknown, or not visible to the caller (the two are deliberately indistinguishable)."""

    code = "not_found"


class Forbidden(PressflowError):
    """Visible, but the caller may not do this."""

    code = "forbidden"


class Conflict(PressflowError):
    """Already done, or changed by someone else meanwhile."""

    code = "conflict"


class InvalidInput(PressflowError):
    """Well-formed input that breaks a rule; ``fields`` names what is wrong."""

    code = "invalid"


class ModelError(PressflowError):
    """A BPMN/DMN file that cannot be deployed; ``problems`` lists ``{element_id, message}``."""

    code = "invalid_model"

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BadCredentials(PressflowError):
    """Unknown user or wrong password (never says which)."""

    code = "bad_credentials"


class AccountLocked(PressflowError):
    """Too many wrong passwords in a row: the account is locked for a while."""

    code = "account_locked"
