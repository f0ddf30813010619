"""Routes of the tasks blueprint."""

from __future__ import annotations

from webapp.tasks import bp  # noqa: F401
