"""Routes of the applications blueprint."""

from __future__ import annotations

from webapp.applications import bp  # noqa: F401
