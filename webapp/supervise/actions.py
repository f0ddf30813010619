"""Supervisors' actions: 催办, reassign, suspend / resume / terminate, fix data and retry, move back."""

from __future__ import annotations

from webapp.supervise import bp  # noqa: F401
