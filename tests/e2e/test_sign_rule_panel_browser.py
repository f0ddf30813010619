"""A process owner chooses 会签 / 或签 / 依次审批 for a multi-instance user task in the PressFlow panel."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import sign_in
from tests.e2e.test_modeler_browser import EDITOR, GROUP, _select_in_diagram

SEQUENTIAL = (Path(__file__).resolve().parent.parent / "data" / "sequential_sign.bpmn").read_text(encoding="utf-8")
SIGN_RULE = f"{GROUP} select[id$='pressflow-signRule']"


def _xml(page) -> str:
    return page.evaluate("() => window.PressflowModeler.xml()")


def test_owner_switches_a_sequential_approval_to_or_sign_and_back_to_countersign(browser, live_server, artifacts):
    owner = sign_in(browser, live_server, "owner")
    owner.goto(EDITOR)
    owner.wait_for_selector("#modeler[data-ready='1']")
    owner.evaluate("xml => window.PressflowModeler.open(xml)", SEQUENTIAL)
    _select_in_diagram(owner, "seq_review")

    assert owner.input_value(SIGN_RULE) == "sequential"
    assert "依次审批" in owner.inner_text(GROUP)
    owner.select_option(SIGN_RULE, "any")
    xml = _xml(owner)
    assert 'isSequential="true"' not in xml
    assert "seq_review_decision is not None</bpmn:completionCondition>" in xml
    owner.screenshot(path=str(artifacts / "modeler-sign-rule.png"), full_page=True)

    owner.select_option(SIGN_RULE, "all")
    assert "completionCondition" not in _xml(owner)
    owner.keyboard.press("Control+z")
    assert "completionCondition" in _xml(owner)
