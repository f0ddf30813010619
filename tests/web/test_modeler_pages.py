"""Process owners' pages: the models overview, version lists, drafts, validate and deploy from the editor."""

from __future__ import annotations

import html
import io
import re
import time
from typing import Any

import pytest
from flask.testing import EnvironBuilder

from tests.conftest import PROCESSES, WebUser
from tests.integration import chain

BPMN = (PROCESSES / "press_conference.bpmn").read_text(encoding="utf-8")
DMN = (PROCESSES / "host_speaker.dmn").read_text(encoding="utf-8")
LEADER_DUE = '<spiffworkflow:property name="dueInWorkdays" value="2" />'
CHINESE = re.compile(r"[\u4e00-\u9fff]")
EDITOR = "/models/press_conference/edit"


def edited(text: str, old: str, new: str) -> str:
    assert old in text, f"not in the model: {old}"
    return text.replace(old, new, 1)


def leader_review_due_in(days: int) -> str:
    """The process with 主要负责人审核 due in ``days`` working days instead of 2."""
    start = BPMN.index('<bpmn:userTask id="leader_review"')
    return BPMN[:start] + edited(BPMN[start:], LEADER_DUE, LEADER_DUE.replace('"2"', f'"{days}"'))


def post_json(user: WebUser, path: str, body: dict[str, Any], *, page: str = EDITOR) -> Any:
    """POST JSON the way the editor script does: CSRF token of the editor page in the X-CSRFToken header."""
    token = user.csrf_from(user.get(page, follow_redirects=True).text)
    return user.client.post(path, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


def upload(user: WebUser, path: str, content: bytes, name: str = "model.bpmn") -> Any:
    """POST a model file as a form upload (what a script or curl would do)."""
    token = user.csrf_from(user.get(EDITOR).text)
    builder = EnvironBuilder(user.client.application, path, method="POST", content_type="multipart/form-data",
                             data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                             headers={"Accept": "application/json"})
    request = builder.get_request()
    try:
        return user.client.open(request)
    finally:
        # The test client spools a large multipart body to a temporary file it never closes itself.
        request.environ["wsgi.input"].close()
        builder.close()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def row(page: str, marker: str) -> str:
    start = page.index(marker)
    return page[start:page.index("</tr>", start)]


def deploy(owner: WebUser, xml: str, note: str = "主要负责人审核期限改为 5 个工作日") -> Any:
    return post_json(owner, "/models/press_conference/deploy", {"xml": xml, "note": note})


# --- the models page and the version list -----------------------------------------------------------


def test_models_page_lists_the_process_and_decision_with_version_deployer_and_running_instances(web, login):
    chain.apply(login)
    chain.start(login, "jiangbei")

    page = web("owner").get("/models/")

    assert page.status_code == 200
    process = row(page.text, 'data-process="press_conference"')
    assert 'data-current-version="1"' in process
    assert 'data-version="1" data-running="2"' in process
    assert "tests" in process and "2026-03-02 09:00" in process and "pressflow init" in process
    decision = text_of(row(page.text, 'data-decision="host_speaker"'))
    assert "host_speaker.dmn" in decision and "press_conference v1" in decision


def test_version_list_shows_each_version_with_note_hash_running_instances_and_what_changed(web, login):
    chain.apply(login)
    owner = web("owner")
    assert deploy(owner, leader_review_due_in(5)).status_code == 201

    page = owner.get("/models/press_conference")

    assert page.status_code == 200
    newest, first = row(page.text, 'data-version="2"'), row(page.text, 'data-version="1"')
    assert "主要负责人审核期限改为 5 个工作日" in newest and "流程管理员 冯博" in newest
    assert 'data-running="0"' in newest and 'data-running="1"' in first
    assert re.search(r'<code title="[0-9a-f]{64}">[0-9a-f]{12}</code>', newest)
    changes = text_of(newest)
    assert "leader_review" in changes and "办理期限（工作日）" in changes and "2 → 5" in changes


def test_a_version_can_be_downloaded_as_bpmn(web):
    response = web("owner").get("/models/press_conference/v1.bpmn?download=1")

    assert response.status_code == 200
    assert response.text == BPMN
    assert "press_conference-v1.bpmn" in response.headers["Content-Disposition"]


def test_an_unknown_process_or_version_is_not_found(web):
    owner = web("owner")

    assert owner.get("/models/no_such_process").status_code == 404
    assert owner.get("/models/press_conference/v9.bpmn").status_code == 404
    assert owner.get("/models/decisions/no_such.dmn/edit").status_code == 404


# --- who may use it ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["yz_clerk", "supervisor", "office_reviewer"])
def test_only_process_owners_and_admins_may_see_or_change_models(web, username):
    other = web(username)

    assert other.get("/models/").status_code == 403
    assert other.get(EDITOR).status_code == 403
    assert other.get("/models/decisions/host_speaker.dmn/edit").status_code == 403
    assert post_json(other, "/models/press_conference/deploy", {"xml": BPMN, "note": "x"}, page="/").status_code == 403
    assert post_json(other, "/models/press_conference/draft", {"xml": BPMN}, page="/").status_code == 403
    assert 'href="/models/"' not in other.get("/", follow_redirects=True).text


def test_process_owner_and_admin_find_the_models_in_the_navigation(web):
    for username in ("owner", "admin"):
        user = web(username)
        assert 'href="/models/"' in user.get("/", follow_redirects=True).text
        assert user.get(EDITOR).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(web):
    owner = web("owner")

    response = owner.client.post("/models/press_conference/validate", json={"xml": BPMN},
                                 headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


# --- the editor page and drafts ----------------------------------------------------------------


def test_editor_page_carries_the_csrf_token_forms_roles_and_the_current_version(web):
    page = web("owner").get(EDITOR)

    assert page.status_code == 200
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page.text)
    assert '{"label": "主要负责人审核（leader_review）", "value": "leader_review"}' in page.text
    assert '{"label": "保密审查员", "value": "secrecy_reviewer"}' in page.text
    assert '"source": "/models/press_conference/v1.bpmn"' in page.text
    assert "bpmn-modeler.production.min.js" in page.text and "bpmnlint-bundle.js" in page.text
    assert "pressflow-properties-panel.js" in page.text


def test_drafts_are_kept_per_user_and_reopen_in_the_editor(web):
    owner, admin = web("owner"), web("admin")
    draft = leader_review_due_in(7)

    saved = post_json(owner, "/models/press_conference/draft", {"xml": draft})

    assert saved.status_code == 200 and saved.get_json()["saved_at"]
    assert owner.get("/models/press_conference/draft").text == draft
    assert admin.get("/models/press_conference/draft").status_code == 404
    assert 'id="draft-banner"' in owner.get(EDITOR).text
    assert 'id="draft-banner"' not in admin.get(EDITOR).text

    again = post_json(owner, "/models/press_conference/draft", {"xml": leader_review_due_in(8)})
    assert again.status_code == 200
    assert 'value="8"' in owner.get("/models/press_conference/draft").text

    assert post_json(owner, "/models/press_conference/draft/discard", {}).get_json() == {"discarded": True}
    assert owner.get("/models/press_conference/draft").status_code == 404


def test_a_draft_that_is_not_xml_is_refused(web):
    owner = web("owner")

    response = post_json(owner, "/models/press_conference/draft", {"xml": "<bpmn:definitions"})

    assert response.status_code == 422
    assert CHINESE.search(response.get_json()["error"]["message"])
    assert owner.get("/models/press_conference/draft").status_code == 404


# --- validate -----------------------------------------------------------------------------------


def test_the_deployed_model_validates_without_problems(web):
    response = post_json(web("owner"), "/models/press_conference/validate", {"xml": BPMN})

    assert response.status_code == 200
    assert response.get_json() == {"valid": True, "problems": []}


def test_validate_names_each_broken_element_with_a_chinese_message(web):
    start = BPMN.index('<bpmn:userTask id="leader_review"')
    task = edited(BPMN[start:], '<spiffworkflow:property name="formKey" value="leader_review" />', "")
    broken = BPMN[:start] + edited(task, 'value="unit_leader"', 'value="chief_of_everything"')

    response = post_json(web("owner"), "/models/press_conference/validate", {"xml": broken})

    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False
    mine = [p for p in body["problems"] if p["element_id"] == "leader_review"]
    assert len(mine) == 2, body
    assert any("formKey" in p["message"] for p in mine)
    assert any("chief_of_everything" in p["message"] for p in mine)
    assert all(CHINESE.search(p["message"]) for p in body["problems"])


def test_validate_tells_when_the_process_id_was_changed(web):
    renamed = BPMN.replace('id="press_conference"', 'id="press_conference_copy"').replace(
        'processRef="press_conference"', 'processRef="press_conference_copy"').replace(
        'bpmnElement="press_conference"', 'bpmnElement="press_conference_copy"')

    body = post_json(web("owner"), "/models/press_conference/validate", {"xml": renamed}).get_json()

    assert body["problems"][0]["element_id"] == "press_conference_copy"
    assert "press_conference" in body["problems"][0]["message"]


def test_validate_without_any_xml_is_a_bad_request(web):
    response = post_json(web("owner"), "/models/press_conference/validate", {"note": "nothing"})

    assert response.status_code == 400
    assert CHINESE.search(response.get_json()["error"]["message"])


XXE = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file://{path}">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="press_conference" name="&secret;" isExecutable="true" />
</bpmn:definitions>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
""" + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">\n'
              for n in range(1, 10)) + """]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="press_conference" name="&lol9;" isExecutable="true" />
</bpmn:definitions>
"""


def test_an_xxe_upload_is_refused_without_reading_the_file(web, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7731", encoding="utf-8")
    owner = web("owner")
    hostile = XXE.format(path=secret).encode("utf-8")

    checked = upload(owner, "/models/press_conference/validate", hostile)
    deployed = upload(owner, "/models/press_conference/deploy", hostile)

    assert checked.status_code == 200
    assert checked.get_json()["valid"] is False
    assert "DOCTYPE" in checked.get_json()["problems"][0]["message"]
    assert deployed.status_code == 422
    for response in (checked, deployed):
        assert "TOP-SECRET-7731" not in response.text


def test_a_billion_laughs_upload_is_refused_at_once(web):
    owner = web("owner")
    started = time.monotonic()

    response = upload(owner, "/models/press_conference/validate", LAUGHS.encode("utf-8"))

    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "DOCTYPE" in response.get_json()["problems"][0]["message"]


def test_an_oversize_upload_is_refused_with_the_size_limit(web):
    owner = web("owner")
    padding = "<!--" + "x" * (2 * 1024 * 1024) + "-->"
    oversize = edited(BPMN, "<bpmn:collaboration", padding + "<bpmn:collaboration").encode("utf-8")

    checked = upload(owner, "/models/press_conference/validate", oversize)
    deployed = upload(owner, "/models/press_conference/deploy", oversize)

    assert checked.status_code == 200
    assert "2 MB" in checked.get_json()["problems"][0]["message"]
    assert deployed.status_code == 422


def test_a_request_beyond_the_upload_limit_is_refused_with_413(web):
    owner = web("owner")
    token = owner.csrf_from(owner.get(EDITOR).text)

    response = owner.client.post("/models/press_conference/validate", data=b" " * (21 * 1024 * 1024),
                                 content_type="application/xml",
                                 headers={"X-CSRFToken": token, "Accept": "application/json"})

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_file_that_is_not_utf8_is_a_bad_request(web):
    response = upload(web("owner"), "/models/press_conference/validate", "流程".encode("gbk") + b"\xff")

    assert response.status_code == 400


def test_a_camunda_file_is_checked_and_what_the_engine_cannot_run_is_reported(web):
    camunda = (PROCESSES.parent / "tests" / "data" / "foreign" / "camunda_leave_request.bpmn").read_bytes()

    response = upload(web("owner"), "/models/leave_request/validate", camunda)

    assert response.status_code == 200
    problems = response.get_json()["problems"]
    assert problems and all(CHINESE.search(p["message"]) for p in problems)
    assert any(p["element_id"] for p in problems)


# --- deploy -----------------------------------------------------------------------------------


def test_deploy_creates_version_2_and_a_running_instance_stays_on_version_1(web, login):
    before = chain.apply(login)
    owner = web("owner")

    response = deploy(owner, leader_review_due_in(5))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["created"] is True
    assert body["versions"] == [{"process_key": "press_conference", "version": 2, "created": True,
                                 "url": "/models/press_conference"}]
    assert login("yz_leader").instance(before)["version"] == 1
    after = chain.apply(login)
    assert login("yz_leader").instance(after)["version"] == 2
    old_task, new_task = (login("yz_leader").task_at(i, "leader_review") for i in (before, after))
    assert old_task["due_at"][:10] == "2026-03-04"  # 2 working days after Monday
    assert new_task["due_at"][:10] == "2026-03-09"  # 5 working days: Monday next week
    assert 'data-current-version="2"' in owner.get("/models/").text


def test_deploy_forgets_the_deployers_draft(web):
    owner = web("owner")
    post_json(owner, "/models/press_conference/draft", {"xml": leader_review_due_in(5)})

    assert deploy(owner, leader_review_due_in(5)).status_code == 201

    assert owner.get("/models/press_conference/draft").status_code == 404


def test_deploying_the_same_content_again_creates_no_version(web):
    owner = web("owner")

    response = deploy(owner, BPMN, note="再次部署")

    assert response.status_code == 200
    assert response.get_json()["created"] is False
    assert 'data-version="2"' not in owner.get("/models/press_conference").text


def test_deploy_of_a_broken_model_is_422_with_the_problems_and_no_new_version(web):
    owner = web("owner")
    broken = edited(BPMN, '<spiffworkflow:property name="candidateRoles" value="unit_leader" />',
                    '<spiffworkflow:property name="candidateRoles" value="nobody" />')

    response = deploy(owner, broken)

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["code"] == "invalid_model"
    assert {p["element_id"] for p in body["problems"]} >= {"leader_review"}
    assert 'data-version="2"' not in owner.get("/models/press_conference").text


def test_deploy_needs_a_note(web):
    response = post_json(web("owner"), "/models/press_conference/deploy", {"xml": leader_review_due_in(5), "note": " "})

    assert response.status_code == 422
    assert "note" in response.get_json()["error"]["fields"]


def test_a_new_process_is_started_in_the_editor_and_deployed_as_its_version_1(web):
    owner = web("owner")
    briefing = BPMN.replace('"press_conference"', '"press_briefing"')

    opened = owner.get("/models/new?key=press_briefing")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/models/press_briefing/edit")
    page = owner.get("/models/press_briefing/edit")
    assert page.status_code == 200 and "新流程，尚未部署" in page.text and '"source": null' in page.text
    response = post_json(owner, "/models/press_briefing/deploy", {"xml": briefing, "note": "通报会单列流程"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["versions"][0] == {"process_key": "press_briefing", "version": 1, "created": True,
                                                  "url": "/models/press_briefing"}
    assert 'data-process="press_briefing"' in owner.get("/models/").text


def test_a_new_process_needs_a_usable_id(web):
    response = web("owner").get("/models/new?key=1%20bad%20id", follow_redirects=True)

    assert "流程 ID 须以字母或下划线开头" in response.text


# --- decision tables ---------------------------------------------------------------------------------


def test_decision_editor_opens_host_speaker_dmn(web):
    owner = web("owner")

    page = owner.get("/models/decisions/host_speaker.dmn/edit")
    source = owner.get("/models/decisions/host_speaker.dmn")

    assert page.status_code == 200 and "dmn-modeler.production.min.js" in page.text
    assert source.text == DMN


def test_a_decision_table_without_the_called_decision_is_refused(web):
    renamed = DMN.replace('<decision id="host_speaker"', '<decision id="host_speaker_v2"')

    body = post_json(web("owner"), "/models/decisions/host_speaker.dmn/validate", {"xml": renamed},
                     page="/models/decisions/host_speaker.dmn/edit").get_json()

    assert body["valid"] is False
    assert "host_speaker" in body["problems"][0]["message"] and CHINESE.search(body["problems"][0]["message"])


def test_a_deployed_decision_change_changes_what_the_selection_form_accepts_for_new_applications(web, login):
    before = _at_host_speaker_selection(login)
    spokesperson_may_speak = edited(DMN, '["mayor", "vice_mayor", "secretary_general", "deputy_secretary_general"]',
                                    '["mayor", "vice_mayor", "secretary_general", "deputy_secretary_general", '
                                    '"unit_spokesperson"]')

    response = post_json(web("owner"), "/models/decisions/host_speaker.dmn/deploy",
                         {"xml": spokesperson_may_speak, "note": "申报单位新闻发言人也可以市政府名义发布"},
                         page="/models/decisions/host_speaker.dmn/edit")

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["versions"][0]["version"] == 2
    after = _at_host_speaker_selection(login)
    assert login("office_reviewer").instance(after)["version"] == 2
    selection = {"speaker_name": "李发言人", "speaker_role": "unit_spokesperson", "host_name": "何平",
                 "host_role": "municipal_spokesperson", "guests": []}
    refused = login("office_reviewer").complete(before, "host_speaker_selection", selection, status=422)
    assert "speaker_role" in refused["error"]["fields"]
    login("office_reviewer").complete(after, "host_speaker_selection", selection)
    versions = web("owner").get("/models/press_conference").text
    assert "申报单位新闻发言人也可以市政府名义发布" in versions and "unit_spokesperson" in versions


def _at_host_speaker_selection(login) -> int:
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    return instance_id
