"""Bad input never yields a 500: every route of the app, web and API, is hit with real and nonsense path values,
a hostile query string and garbage bodies, anonymously and as users of several roles.

The individual pages and endpoints have their own tests of *which* 4xx and message they give; this sweep is the net
under them, so that a route added later without validation cannot slip through. It runs on every backend because
PostgreSQL refuses some values SQLite swallows (an id beyond a 32-bit integer, a NUL character).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import WebUser
from tests.integration import chain

#: Who sweeps: nobody signed in, an applicant of one district, and the admin, who may reach every page.
SWEEPERS = (None, "yz_clerk", "admin")
SKIPPED_RULES = {"/logout"}  # ends the sweeping session; its own tests cover it
HOSTILE_QUERY = {
    "page": "99999999999999999999", "per_page": "-3", "status": "<script>", "unit": "jiangbei", "process": "../x",
    "step": "x" * 300, "overdue": "maybe", "stuck": "2", "from": "2026-13-45", "to": "yesterday", "q": "%' OR 1=1 --",
    "sort": "id;drop", "order": "sideways", "scope": "everyone", "start": "2026-02-30", "days": "1e9", "kind": "exe",
    "period": "forever", "version": "v0", "other": "-1", "next": "//evil.example/",
}
GARBAGE_FORM = {
    "decision": "maybe", "comment": "x" * 20000, "reason": "", "to": "nobody", "target": "99999999999",
    "title": "\t\r\n", "conference_date": "2026-02-30", "start_time": "25:61", "kind": "exe", "lang": "xx",
    "next": "//evil.example/", "xml": "<definitions", "note": "y" * 5000, "ids": "1,a,-2", "instance_ids": "z",
    "delegate": "admin", "starts_on": "someday", "ends_on": "2026-01-01", "process": "nope", "guests": "[{",
    "values": "{not json", "at_step": "😀", "to_version": "-1", "form_data": "[", "sample": "yes",
}
GARBAGE_JSON: tuple[Any, ...] = ({}, [], {"data": "text", "decision": 3, "reason": None, "to": ["a"]},
                                 {"process": {"$ne": 1}, "username": 1, "password": []},
                                 {"data": {"title": "a\x00b"}, "comment": "\x00"})
#: PostgreSQL cannot store NUL characters; SQLite can. Either way they are refused before any view runs.
NUL = {"q": "a\x00b", "comment": "\x00"}


@pytest.fixture
def world(app: Any, login: Any) -> dict[str, str]:
    """Real values for every kind of path parameter: an application with attachments, an open task, a delegation."""
    from engine.models import Attachment, HumanTask, Notification
    from webapp.extensions import db

    instance_id = chain.apply(login)
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "return", "comment": "补充材料"})
    created = login("yz_clerk").post("/delegations", json={"delegate": "yz_clerk", "starts_on": "2026-03-02",
                                                            "ends_on": "2026-03-05", "reason": "出差"})
    with app.app_context():
        attachment = db.session.scalar(select(Attachment.id).where(Attachment.instance_id == instance_id))
        task = db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.completed_at.is_(None)))
        notification = db.session.scalar(select(Notification.id))
        db.session.remove()
    return {"instance_id": str(instance_id), "attachment_id": str(attachment), "task_id": str(task),
            "notification_id": str(notification), "delegation_id": str((created.get_json() or {}).get("id", 1)),
            "key": "press_conference", "decision_file": "host_speaker.dmn", "number": "1", "kind": "csv",
            "phrase_id": "1", "spokesperson_id": "1"}


def urls(app: Any, world: dict[str, str]) -> Iterator[tuple[str, set[str]]]:
    """Every rule of the app with real values, then with values that name nothing or cannot be stored."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in SKIPPED_RULES or "/vendor/" in rule.rule:
            continue
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        for variant in ("real", "missing", "huge"):
            values = {name: _value(name, rule.rule, variant, world) for name in rule.arguments}
            yield rule.build(values, append_unknown=False)[1], methods


def _value(name: str, rule: str, variant: str, world: dict[str, str]) -> str:
    integer = re.search(rf"<int:{name}>", rule) is not None
    if variant == "real" or name == "kind":
        return world[name]
    if integer:
        return "2147483648" if variant == "missing" else "99999999999999999999"
    return "no-such-thing" if variant == "missing" else "..%2F%00" + "x" * 400


def sweep(client: Any, path: str, methods: set[str], csrf: str | None, api_headers: dict[str, str]) -> list[str]:
    """Send the hostile requests for one path; return a line for each answer of 500 or more."""
    failures: list[str] = []
    api = path.startswith("/api/")
    calls: list[tuple[str, dict[str, Any]]] = []
    if "GET" in methods:
        calls += [("GET", {"query_string": HOSTILE_QUERY}), ("GET", {"query_string": NUL})]
    for method in methods - {"GET"}:
        if api:
            calls += [(method, {"json": body}) for body in GARBAGE_JSON]
            calls.append((method, {"data": b"\xff\xfe not json", "content_type": "application/json"}))
        else:
            token = {"csrf_token": csrf} if csrf else {}
            calls += [(method, {"data": {**GARBAGE_FORM, **token}}), (method, {"data": {**NUL, **token}})]
    for method, options in calls:
        headers = api_headers if api else {}
        try:
            status = client.open(path, method=method, headers=headers, **options).status_code
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is exactly what the sweep reports
            failures.append(f"{method} {path}: {type(exc).__name__}: {exc}"[:300])
            continue
        if status >= 500:
            failures.append(f"{method} {path}: {status}")
    return failures


@pytest.mark.parametrize("username", SWEEPERS)
def test_no_route_answers_hostile_input_with_a_server_error(app, login, world, username):
    if username is None:
        client, csrf, headers = app.test_client(), None, {}
    else:
        user = WebUser(app, username)
        client, csrf = user.client, user.csrf_from(user.get("/", follow_redirects=True).text)
        headers = login(username).headers

    failures = [line for path, methods in urls(app, world) for line in sweep(client, path, methods, csrf, headers)]

    assert failures == [], "\n".join(failures)


def test_a_nul_character_is_refused_as_a_bad_request_naming_it_and_changes_nothing(login):
    instance_id = chain.start(login)
    clerk = login("yz_clerk")
    task = clerk.task_at(instance_id, "topic_application")

    listed = clerk.get("/instances", query_string={"status": "running\x00"})
    completed = clerk.post(f"/tasks/{task['id']}/complete", json={"data": chain.application(title="发布会\x00")})

    for response in (listed, completed):
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"
        assert "NUL" in response.get_json()["error"]["message"]
    assert clerk.task_at(instance_id, "topic_application")["id"] == task["id"]


def test_an_id_beyond_the_databases_integers_is_simply_not_found(login, web):
    assert login("supervisor").get("/instances/2147483648").status_code == 404
    assert web("supervisor").get("/supervise/instances/99999999999999999999").status_code == 404
