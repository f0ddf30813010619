"""Fixtures of the hardening tests: the live stack (gunicorn + worker) on each backend."""

from tests.hardening.live import stack  # noqa: F401 - a fixture, used by name


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Quote the figure the hardening issue asks for: how many API requests schemathesis generated."""
    from tests.hardening.test_api_fuzz import GENERATED

    if GENERATED["requests"]:
        terminalreporter.write_line(f"schemathesis: {GENERATED['requests']} generated API requests checked")  # type: ignore[attr-defined]
