"""Routes of the notifications blueprint."""

from __future__ import annotations

from webapp.notifications import bp  # noqa: F401
