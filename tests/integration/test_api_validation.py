"""Bad input is refused with a clear 4xx that names what is wrong, and changes nothing; never a 500."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest

from engine.workdays.calendar import WorkCalendar
from tests.integration import chain

TODAY = dt.date(2026, 3, 2)  # the frozen clock's day in Chongqing


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()["error"]


def started(login) -> int:
    """An application started by yz_clerk with its work plan and release text attached, not yet submitted."""
    return chain.start(login)


def submit(login, instance_id: int, data) -> object:
    clerk = login("yz_clerk")
    task_id = clerk.task_at(instance_id, "topic_application")["id"]
    return clerk.post(f"/tasks/{task_id}/complete", json={"data": data})


# --- malformed requests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "content_type"), [
    ("not json at all", "text/plain"),
    ('{"process": "press_conference"}', "text/plain"),
    ('{"process": ', "application/json"),
    ('["press_conference"]', "application/json"),
    ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(login, body, content_type):
    response = login("yz_clerk").post("/instances", data=body, content_type=content_type)

    assert error_of(response, 400)["code"] == "bad_request"
    assert login("yz_clerk").get("/instances").get_json()["total"] == 0


def test_a_token_request_that_is_not_json_is_a_bad_request(client):
    response = client.post("/api/v1/auth/token", data="username=yz_clerk&password=pressflow-demo",
                           content_type="application/x-www-form-urlencoded")

    assert error_of(response, 400)["code"] == "bad_request"


def test_a_token_request_without_a_password_names_the_missing_field(client):
    response = client.post("/api/v1/auth/token", json={"username": "yz_clerk"})

    assert list(error_of(response, 422)["fields"]) == ["password"]


def test_unknown_fields_in_a_request_body_are_refused_by_name(login):
    response = login("yz_clerk").post("/instances", json={"process": "press_conference", "priority": "urgent"})

    error = error_of(response, 422)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["priority"]
    assert login("yz_clerk").get("/instances").get_json()["total"] == 0


def test_unknown_fields_next_to_the_form_data_are_refused_by_name(login):
    instance_id = started(login)
    task_id = login("yz_clerk").task_at(instance_id, "topic_application")["id"]

    response = login("yz_clerk").post(f"/tasks/{task_id}/complete",
                                      json={"data": chain.application(), "force": True})

    assert list(error_of(response, 422)["fields"]) == ["force"]


def test_unknown_fields_inside_the_form_data_are_refused_by_name(login):
    response = submit(login, started(login), chain.application(budget="100万元"))

    assert list(error_of(response, 422)["fields"]) == ["budget"]


@pytest.mark.parametrize("body", [{}, {"data": None}, {"data": "approve"}, {"data": ["approve"]}])
def test_a_completion_without_a_data_object_is_refused(login, body):
    instance_id = started(login)
    task_id = login("yz_clerk").task_at(instance_id, "topic_application")["id"]

    response = login("yz_clerk").post(f"/tasks/{task_id}/complete", json=body)

    assert "data" in error_of(response, 422)["fields"]


def test_starting_an_unknown_process_is_not_found(login):
    error = error_of(login("yz_clerk").post("/instances", json={"process": "annual_report"}), 404)

    assert "annual_report" in error["message"]


@pytest.mark.parametrize("path", ["/instances/abc", "/instances/999999", "/instances/999999/history",
                                  "/tasks/no-such-task", "/instances/999999/attachments/1", "/no-such-endpoint"])
def test_unknown_resources_are_not_found(login, path):
    assert error_of(login("yz_clerk").get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize(("query", "field"), [
    ("page=abc", "page"), ("page=0", "page"), ("per_page=1000", "per_page"), ("status=bogus", "status"),
    ("colour=red", "colour"),
])
def test_bad_instance_list_parameters_are_refused_by_name(login, query, field):
    assert list(error_of(login("supervisor").get(f"/instances?{query}"), 422)["fields"]) == [field]


def test_a_bad_task_scope_is_refused_by_name(login):
    assert list(error_of(login("yz_clerk").get("/tasks?scope=everyone"), 422)["fields"]) == ["scope"]


@pytest.mark.parametrize(("query", "field"), [
    ("to=", "to"), ("from=", "from"), ("sort=", "sort"), ("page=", "page"), ("unit=", "unit"),
    ("unit=渝中区", "unit"), ("process=a%20b", "process"), ("q=" + "长" * 101, "q"),
])
def test_an_empty_or_malformed_task_filter_is_refused_by_name(login, query, field):
    assert list(error_of(login("yz_clerk").get(f"/tasks?{query}"), 422)["fields"]) == [field]


def test_a_well_formed_filter_that_matches_nothing_is_an_empty_page(login):
    started(login)
    clerk = login("yz_clerk")
    assert len(clerk.get("/tasks?q=").get_json()) == 1  # an empty search is no search
    for query in ("process=never_deployed", "unit=nowhere", "step=no_such_step"):
        response = clerk.get(f"/tasks?{query}")
        assert (response.status_code, response.get_json()) == (200, []), query


def test_a_task_path_takes_only_a_task_id_so_batch_is_never_read_as_a_task(login):
    leader = login("yz_leader")
    allowed = leader.client.options("/api/v1/tasks/batch", headers=leader.headers).headers["Allow"]
    assert set(allowed.split(", ")) == {"OPTIONS", "POST"}
    assert error_of(leader.post("/tasks/batch", json={"tasks": [str(uuid.uuid4())], "step": "leader_review",
                                                     "decision": "approve"}), 404)["code"] == "not_found"
    assert "tasks" in error_of(leader.post("/tasks/batch", json={"tasks": ["0"], "step": "leader_review",
                                                                "decision": "approve"}), 422)["fields"]


# --- the topic application form ---------------------------------------------------------------------------------

def test_a_conference_too_soon_is_refused_naming_the_earliest_allowed_date(login):
    earliest = WorkCalendar().add_workdays(TODAY, 10).date
    instance_id = started(login)

    response = submit(login, instance_id, chain.application(conference_date=(earliest - dt.timedelta(days=1))
                                                            .isoformat()))

    error = error_of(response, 422)
    assert list(error["fields"]) == ["conference_date"]
    assert earliest.isoformat() in error["fields"]["conference_date"][0]
    submit_ok = submit(login, instance_id, chain.application(conference_date=earliest.isoformat()))
    assert submit_ok.status_code == 200, submit_ok.get_json()


def test_submitting_without_the_work_plan_and_release_text_is_refused(login):
    clerk = login("yz_clerk")
    instance_id = clerk.post("/instances", json={"process": "press_conference"}).get_json()["id"]

    error = error_of(submit(login, instance_id, chain.application()), 422)
    assert "attachments" in error["fields"]
    assert "工作方案" in error["fields"]["attachments"][0]
    assert "发布文稿" in error["fields"]["attachments"][0]

    assert chain.upload(clerk, instance_id, "work_plan").status_code == 201
    error = error_of(submit(login, instance_id, chain.application()), 422)
    assert "发布文稿" in error["fields"]["attachments"][0]
    assert "工作方案" not in error["fields"]["attachments"][0]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"conference_date": "2026-02-30"}, "conference_date"),
    ({"conference_date": "20260320"}, "conference_date"),
    ({"conference_date": 20260320}, "conference_date"),
    ({"start_time": "25:00"}, "start_time"),
    ({"start_time": ["10:00"]}, "start_time"),
    ({"title": None}, "title"),
    ({"title": {"zh": "标题"}}, "title"),
    ({"title": "长" * 101}, "title"),
    ({"kind": "press_release"}, "kind"),
    ({"name_holder": True}, "name_holder"),
    ({"venue": "other", "venue_other_reason": ""}, "venue_other_reason"),
    ({"summary": "   "}, "summary"),
])
def test_a_bad_topic_application_value_is_refused_by_field(login, overrides, field):
    error = error_of(submit(login, started(login), chain.application(**overrides)), 422)

    assert field in error["fields"]


def test_a_failed_validation_leaves_the_task_open_and_the_history_untouched(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    history_before = leader.get(f"/instances/{instance_id}/history").get_json()
    data_before = leader.instance(instance_id)["data"]

    response = leader.post(f"/tasks/{task['id']}/complete", json={"data": {"decision": "return", "comment": ""}})

    assert "comment" in error_of(response, 422)["fields"]
    assert leader.task_at(instance_id, "leader_review") == task
    assert leader.get(f"/instances/{instance_id}/history").get_json() == history_before
    assert leader.instance(instance_id)["data"] == data_before


def test_completing_an_already_completed_task_is_a_conflict(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task_id = leader.task_at(instance_id, "leader_review")["id"]
    approve = {"data": {"decision": "approve", "comment": "同意"}}
    assert leader.post(f"/tasks/{task_id}/complete", json=approve).status_code == 200

    assert error_of(leader.post(f"/tasks/{task_id}/complete", json=approve), 409)["code"] == "conflict"
    history = leader.get(f"/instances/{instance_id}/history").get_json()
    assert [h["bpmn_id"] for h in history if h["action"] == "complete"] == ["topic_application", "leader_review"]


# --- attachments ------------------------------------------------------------------------------------------------

def test_an_upload_over_the_size_limit_is_refused_as_too_large(app, login):
    instance_id = started(login)
    app.config["MAX_CONTENT_LENGTH"] = 4096

    response = chain.upload(login("yz_clerk"), instance_id, "other", "大文件.pdf", chain.PDF + b"0" * 8192)

    assert error_of(response, 413)["code"] == "request_entity_too_large"
    assert len(login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json()) == 2


@pytest.mark.parametrize(("name", "content", "kind", "field"), [
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00", "other", "file"),
    ("方案.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "work_plan", "file"),
    ("照片.png", chain.PDF, "other", "file"),
    ("说明.txt", b"\x00\x01\x02binary", "other", "file"),
    ("无扩展名", chain.PDF, "other", "file"),
    ("空文件.pdf", b"", "other", "file"),
    ("方案.pdf", chain.PDF, "invoice", "kind"),
])
def test_a_disallowed_or_disguised_upload_is_refused_by_field(login, name, content, kind, field):
    instance_id = started(login)

    response = chain.upload(login("yz_clerk"), instance_id, kind, name, content)

    assert field in error_of(response, 422)["fields"]
    assert len(login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json()) == 2


def test_an_upload_without_a_file_is_refused(login):
    instance_id = started(login)

    response = login("yz_clerk").post(f"/instances/{instance_id}/attachments", data={"kind": "other"},
                                      content_type="multipart/form-data")

    assert "file" in error_of(response, 422)["fields"]


def test_an_upload_with_a_line_break_in_a_field_name_is_a_bad_request_and_stores_nothing(login):
    instance_id = started(login)
    before = login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json()

    response = login("yz_clerk").post(f"/instances/{instance_id}/attachments", content_type="multipart/form-data",
                                      data={"a\nb": "{}", "kind": "work_plan",
                                            "file": (io.BytesIO(chain.PDF), "方案.pdf")})

    assert "字段名" in error_of(response, 400)["message"]
    assert login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json() == before


def test_an_upload_without_a_kind_is_refused(login):
    instance_id = started(login)

    response = login("yz_clerk").post(f"/instances/{instance_id}/attachments",
                                      data={"file": (io.BytesIO(chain.PDF), "方案.pdf")},
                                      content_type="multipart/form-data")

    assert "kind" in error_of(response, 422)["fields"]


# --- the API description ----------------------------------------------------------------------------------------

def _refs(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(spec: dict, ref: str) -> object:
    assert ref.startswith("#/"), ref
    node: object = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def test_openapi_description_is_public_valid_openapi_3_with_paths_and_form_schemas(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert {"title", "version"} <= set(spec["info"])
    assert {"/instances", "/tasks/{task_id}/complete", "/calendar/add-workdays"} <= set(spec["paths"])
    assert {"get", "post"} <= set(spec["paths"]["/instances"])
    complete = spec["paths"]["/tasks/{task_id}/complete"]["post"]
    assert {"200", "409", "422"} <= set(complete["responses"])
    assert [p["name"] for p in complete["parameters"]] == ["task_id"]
    schemas = spec["components"]["schemas"]
    assert {"form_topic_application", "form_leader_review", "form_host_speaker_selection"} <= set(schemas)
    topic = schemas["form_topic_application"]["properties"]
    assert {"title", "name_holder", "kind", "conference_date", "start_time", "venue", "live_stream"} <= set(topic)
    for ref in _refs(spec):
        _resolve(spec, ref)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}, (path, method)
            assert operation["responses"], (path, method)
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
