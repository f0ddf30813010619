"""The public interview request form: anyone may send it; it shows a receipt number and nothing else."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from engine.models import Instance
from tests.conftest import WebUser
from tests.integration.test_interview_paths import request

URL = "/public/interview"


def requests_made(app: Any) -> int:
    from webapp.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Instance).where(
            Instance.process_key == "reporter_interview")) or 0


def send(client: Any, data: dict[str, Any]) -> Any:
    token = WebUser.csrf_from(client.get(URL).text)
    form = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    return client.post(URL, data={**form, "csrf_token": token})


def test_a_reporter_without_an_account_gets_a_receipt_number_and_nothing_else(app: Any, login: Any) -> None:
    client = app.test_client()
    page = client.get(URL)
    assert page.status_code == 200 and "记者采访申请" in page.text and 'value="yuzhong"' in page.text
    assert 'value="office"' not in page.text  # the Office routes; it is not a unit to ask for

    response = send(client, request())

    assert response.status_code == 200
    receipt = re.search(r'class="receipt-no">(CF\d{8}-[A-Z2-9]{8})<', response.text)
    assert receipt is not None
    assert "/applications/" not in response.text and "/tasks/" not in response.text
    instance = [i for i in login("office_reviewer").get("/instances").get_json()["items"]
                if i["process"] == "reporter_interview"]
    assert len(instance) == 1
    assert login("office_reviewer").task_at(instance[0]["id"], "interview_routing")


def test_the_sender_is_not_signed_in_and_reaches_no_other_page(app: Any) -> None:
    client = app.test_client()
    send(client, request())
    assert client.get("/applications/1").status_code == 302  # to the sign-in page
    assert client.get("/tasks").status_code == 302
    assert client.get("/api/v1/instances").status_code == 401


def test_a_submission_without_the_csrf_token_is_refused_and_starts_nothing(app: Any) -> None:
    response = app.test_client().post(URL, data=request())
    assert response.status_code == 400
    assert requests_made(app) == 0


def test_bad_values_come_back_with_chinese_messages_and_start_nothing(app: Any) -> None:
    response = send(app.test_client(), request(press_card_no="卡号!", contact="call me"))
    assert response.status_code == 422
    assert "记者证号只能由字母、数字和连字符组成" in response.text and "请填写有效的电话号码或电子邮箱" in response.text
    response = send(app.test_client(), request(contact=""))
    assert response.status_code == 422 and "联系方式" in response.text
    for unit in ("office", "nowhere"):
        response = send(app.test_client(), request(wished_unit=unit))
        assert response.status_code == 422 and f"单位代码 {unit} 不存在" in response.text
    assert requests_made(app) == 0


def test_a_sixth_submission_within_the_hour_from_one_address_is_refused(app: Any, frozen_clock: Any) -> None:
    client = app.test_client()
    for _ in range(5):
        assert send(client, request()).status_code == 200
    refused = send(client, request())
    assert refused.status_code == 429 and "请求过于频繁" in refused.text
    assert requests_made(app) == 5
    frozen_clock.advance(hours=1)
    assert send(client, request()).status_code == 200


def test_reading_the_form_is_not_limited(app: Any) -> None:
    client = app.test_client()
    assert all(client.get(URL).status_code == 200 for _ in range(8))


def test_the_process_is_in_the_modeler_with_a_shape_for_every_step(app: Any, web: Any) -> None:
    owner = web("owner")
    assert "reporter_interview" in owner.get("/models/").text
    xml = owner.get("/models/reporter_interview/v1.bpmn").text
    steps = set(re.findall(r'<bpmn:(?:userTask|scriptTask|exclusiveGateway|startEvent|endEvent) id="([^"]+)"', xml))
    shapes = set(re.findall(r'<bpmndi:BPMNShape id="[^"]+" bpmnElement="([^"]+)"', xml))
    assert len(steps) == 16 and steps <= shapes


def test_the_office_sees_a_public_request_at_its_routing_step_in_the_diagram(app: Any, web: Any, login: Any) -> None:
    send(app.test_client(), request())
    (instance,) = [i for i in login("office_reviewer").get("/instances").get_json()["items"]
                   if i["process"] == "reporter_interview"]
    states = web("office_reviewer").get(f"/diagram/{instance['id']}/states.json").get_json()
    assert (states["completed"], states["current"]) == (["interview_entry"], ["interview_routing"])


def test_the_office_routes_by_choosing_from_the_units_table(app: Any, web: Any, login: Any) -> None:
    send(app.test_client(), request())
    task = [t for t in login("office_reviewer").tasks() if t["bpmn_id"] == "interview_routing"][0]
    page = web("office_reviewer").get(f"/tasks/{task['id']}").text
    assert '<option value="jiangbei"' in page and ">江北区人民政府<" in page
    assert '<option value="office"' not in page
