"""Fixtures of the hardening tests: the live stack (gunicorn + worker) on each backend; the run's figures (printed
by tests/conftest.py, which the main process of a pytest-xdist run loads too)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.figures import FIGURES
from tests.hardening.live import stack  # noqa: F401 - a fixture, used by name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the figures the test reached to its teardown report (which pytest-xdist sends to the main process)."""
    report: Any = yield
    if call.when == "teardown":
        from tests.hardening.test_api_fuzz import GENERATED

        report.user_properties += [("hardening_figure", line) for line in FIGURES]
        report.user_properties += [("fuzz_requests", GENERATED["requests"])] if GENERATED["requests"] else []
        FIGURES.clear()
        GENERATED["requests"] = 0
    return report  # type: ignore[no-any-return]
