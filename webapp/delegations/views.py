"""Routes of the delegations blueprint."""

from __future__ import annotations

from webapp.delegations import bp  # noqa: F401
