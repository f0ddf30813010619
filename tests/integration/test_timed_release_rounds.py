"""One timed-release round: release text → HQ leader → confidentiality review → Office → conference → monitoring,
with every send-back and the cancelled conference."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration import chain
from tests.integration.test_timed_releases import rounds, start_series, worker_at

TEXT = {"release_text": "截至今日 12 时，全市新增确诊病例 3 例。", "key_figures": "新增 3 例"}


@pytest.fixture
def round_id(app: Any, login: Any, frozen_clock: Any) -> int:
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    return int(rounds(app, series_id)[0]["id"])


def text_approved_and_reviewed(login: Any, round_id: int) -> None:
    login("wjw_writer").complete(round_id, "release_text", TEXT)
    login("hq_leader").complete(round_id, "hq_approval", {"decision": "approve"})
    login("wjw_secrecy").complete(round_id, "secrecy_review", {"decision": "pass"})


def test_a_round_runs_from_release_text_to_quick_monitoring(app, login, round_id):
    text_approved_and_reviewed(login, round_id)
    login("office_reviewer").complete(round_id, "office_confirmation", {"decision": "confirm"})
    login("onsite").complete(round_id, "round_conference", {"status": "held", "questions": 6})
    login("monitor").complete(round_id, "quick_monitoring",
                              {"summary": "舆情总体平稳", "needs_follow_up": True})

    finished = login("wjw_writer").instance(round_id)
    assert (finished["status"], finished["outcome"]) == ("completed", "completed")


@pytest.mark.parametrize(("returner", "step", "decision"), [
    ("hq_leader", "hq_approval", {"decision": "return", "comment": "数据口径与指挥部通报不一致"}),
    ("wjw_secrecy", "secrecy_review", {"decision": "return", "comment": "删去未公开的病例行程"}),
    ("office_reviewer", "office_confirmation", {"decision": "return", "comment": "补充防护提示"}),
])
def test_each_reviewer_can_send_the_release_text_back_with_a_comment(app, login, round_id, returner, step,
                                                                     decision):
    login("wjw_writer").complete(round_id, "release_text", TEXT)
    if step != "hq_approval":
        login("hq_leader").complete(round_id, "hq_approval", {"decision": "approve"})
    if step == "office_confirmation":
        login("wjw_secrecy").complete(round_id, "secrecy_review", {"decision": "pass"})

    login(returner).complete(round_id, step, decision)

    assert chain.open_steps(login("wjw_writer"), round_id) == ["release_text"]


def test_a_send_back_needs_a_reason(app, login, round_id):
    login("wjw_writer").complete(round_id, "release_text", TEXT)

    refused = login("hq_leader").complete(round_id, "hq_approval", {"decision": "return"}, status=422)

    assert refused["error"]["fields"] == {"comment": ["退回或不同意时须填写审批意见"]}


def test_a_cancelled_conference_ends_the_round_and_needs_a_reason(app, login, round_id):
    text_approved_and_reviewed(login, round_id)
    login("office_reviewer").complete(round_id, "office_confirmation", {"decision": "confirm"})
    onsite = login("onsite")
    refused = onsite.complete(round_id, "round_conference", {"status": "cancelled"}, status=422)
    assert refused["error"]["fields"] == {"notes": ["取消本场时须填写原因"]}

    onsite.complete(round_id, "round_conference", {"status": "cancelled", "notes": "指挥部决定改为书面发布"})

    finished = login("wjw_writer").instance(round_id)
    assert (finished["status"], finished["outcome"]) == ("completed", "cancelled")


def test_only_the_hq_of_the_round_approves_its_release_text(app, login, round_id):
    login("wjw_writer").complete(round_id, "release_text", TEXT)

    assert not [t for t in login("wjw_leader").tasks() if t["instance_id"] == round_id]
    assert login("hq_leader").task_at(round_id, "hq_approval")["unit"] == "hq_health"
