"""Fixtures of the hardening tests: the live stack (gunicorn + worker) on each backend; the run's figures."""

from typing import Any

from tests.hardening.figures import FIGURES
from tests.hardening.live import stack  # noqa: F401 - a fixture, used by name


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Quote the figures the hardening issue asks for: races held, kills survived, requests, matrix cells."""
    from tests.hardening.test_api_fuzz import GENERATED

    if GENERATED["requests"]:
        FIGURES.append(f"schemathesis: {GENERATED['requests']} generated API requests checked, all checks on")
    for line in FIGURES:
        terminalreporter.write_line(f"hardening figure — {line}")
