"""Fixtures of the hardening tests: the live stack (gunicorn + worker) on each backend."""

from tests.hardening.live import stack  # noqa: F401 - a fixture, used by name
