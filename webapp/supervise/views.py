"""Routes of the supervise blueprint: dashboard, lists, exports, instance page, heatmap."""

from __future__ import annotations

from webapp.supervise import bp  # noqa: F401
