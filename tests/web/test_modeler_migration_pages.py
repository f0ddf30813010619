"""The process owner's migration pages (pick, preview, migrate) and the dry-run page."""

from __future__ import annotations

import re

import pytest

from engine.workflow.deploy import deploy
from tests.integration import chain
from tests.model_edits import DMN, with_secrecy_recheck


@pytest.fixture
def two_versions(app, login) -> dict[str, int]:
    """One application waiting at the leader review, one at the secrecy review, then v2 adds a recheck step."""
    at_leader = chain.apply(login)
    at_secrecy = chain.apply(login, title="第二场发布会")
    login("yz_leader").complete(at_secrecy, "leader_review", {"decision": "approve", "comment": ""})
    from webapp.extensions import db

    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], with_secrecy_recheck(), [DMN], "owner", "加保密复核")
        db.session.remove()
    return {"at_leader": at_leader, "at_secrecy": at_secrecy}


def test_owner_picks_previews_and_migrates_running_applications_which_then_take_the_new_step(web, login, two_versions):
    owner = web("owner")
    listing = owner.get("/models/press_conference/migrate")
    assert listing.status_code == 200
    assert f'id="pick-{two_versions["at_leader"]}"' in listing.text
    filtered = owner.get("/models/press_conference/migrate?at_step=secrecy_review").text
    assert f'id="pick-{two_versions["at_secrecy"]}"' in filtered
    assert f'id="pick-{two_versions["at_leader"]}"' not in filtered

    ids = [two_versions["at_leader"], two_versions["at_secrecy"]]
    preview = owner.post_form("/models/press_conference/migrate/preview", {"instance_id": ids},
                              page="/models/press_conference/migrate")
    assert preview.status_code == 200
    assert "v1 → v2" in preview.text
    assert login("supervisor").instance(two_versions["at_leader"])["version"] == 1  # a preview changes nothing

    result = owner.post_form("/models/press_conference/migrate/run", {"instance_id": ids, "note": "统一加复核"},
                             page="/models/press_conference/migrate")
    assert result.status_code == 200
    assert len(re.findall(r'class="ok"', result.text)) == 2
    assert login("supervisor").instance(two_versions["at_secrecy"])["version"] == 2
    login("yz_secrecy").complete(two_versions["at_secrecy"], "secrecy_review", {"decision": "pass", "comment": ""})
    assert [t["bpmn_id"] for t in login("supervisor").instance(two_versions["at_secrecy"])["tasks"]] == [
        "secrecy_recheck"]
    history = login("supervisor").get(f"/instances/{two_versions['at_leader']}/history").get_json()
    assert any(h["action"] == "migrate" for h in history)


def test_migration_pages_are_for_process_owners_only_and_reject_bad_choices(web, two_versions):
    assert web("yz_clerk").get("/models/press_conference/migrate").status_code == 403
    assert web("supervisor").post_form("/models/press_conference/migrate/run",
                                       {"instance_id": [two_versions["at_leader"]]}, page="/").status_code == 403
    owner = web("owner")
    assert owner.post_form("/models/press_conference/migrate/preview", {"instance_id": ["x"]},
                           page="/models/press_conference/migrate").status_code == 422
    assert owner.get("/models/press_conference/migrate?from_version=abc").status_code == 422


def test_dry_run_shows_the_path_taken_without_creating_anything(web, login):
    owner = web("owner")
    assert owner.get("/models/press_conference/dry-run").status_code == 200
    before = len(login("supervisor").get("/instances").get_json()["items"])
    ran = owner.post_form("/models/press_conference/dry-run", {"version": "1", "form_data": ""},
                          page="/models/press_conference/dry-run")
    assert ran.status_code == 200
    assert "<code>end</code>" in ran.text
    assert "host_speaker_selection" in ran.text
    rejected = owner.post_form("/models/press_conference/dry-run", {
        "version": "1", "form_data": '{"leader_review": {"decision": "reject", "comment": "不同意"}}'},
        page="/models/press_conference/dry-run")
    assert "<code>rejected</code>" in rejected.text
    assert "host_speaker_selection" not in rejected.text.split('id="dry-steps"')[1].split("</ol>")[0]
    bad = owner.post_form("/models/press_conference/dry-run", {"version": "1", "form_data": "[1, 2"},
                          page="/models/press_conference/dry-run")
    assert bad.status_code == 422
    assert len(login("supervisor").get("/instances").get_json()["items"]) == before
