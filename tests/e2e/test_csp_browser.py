"""The Content-Security-Policy holds in a real browser: the pages with the heaviest scripts (the BPMN and DMN
editors, the supervisor's diagram and charts) draw without a single CSP violation or script error."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in


@pytest.mark.parametrize(("username", "path", "ready"), [
    ("owner", "/models/press_conference/edit", "#modeler[data-ready='1']"),
    ("owner", "/models/decisions/host_speaker.dmn/edit", "#modeler[data-ready='1']"),
    ("supervisor", "/supervise/heatmap", "canvas"),
    ("supervisor", "/supervise/", "body"),
])
def test_script_heavy_pages_run_under_the_policy_without_a_violation(browser, live_server, username, path, ready):
    page = sign_in(browser, live_server, username)
    problems: list[str] = []
    # Chromium reports each blocked script, eval or style as a console error naming the policy.
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    response = page.goto(path)
    page.wait_for_selector(ready)
    page.wait_for_timeout(500)

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert problems == []
