"""The authorization matrix, generated from the route map: every route × every user (role @ unit) × API and web.

Each cell is one real request through the application. A user the table allows must get past the gate (any answer
but 401/403/404 or the sign-in page); everyone else must be turned away, and a turned-away request changes nothing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, ApiUser, WebUser
from tests.hardening.access_table import ANONYMOUS, FULL_USERS, QUICK_USERS, TABLE, Rule
from tests.hardening.figures import FIGURES
from tests.integration.chain import PDF, apply
from webapp.security import SECURITY_HEADERS

USERS = FULL_USERS if os.environ.get("PRESSFLOW_STRESS") else QUICK_USERS
DENIED = {401, 403, 404}
#: Drafts the world holds for owner and admin (draft keys as the modeler keeps them), so reading one is not a 404.
DRAFTS = (("press_conference", "press_conference.bpmn"), ("dmn:host_speaker", "host_speaker.dmn"))


@dataclass
class World:
    """The application under test and the ids the table's placeholders stand for."""

    app: Any
    ids: dict[str, Any]
    api: dict[str, ApiUser]
    web: dict[str, Any]
    csrf: dict[str, str]
    trail_at_start: int


@pytest.fixture
def world(app: Any) -> Iterator[World]:
    client = app.test_client()
    api: dict[str, ApiUser] = {}

    def login(username: str) -> ApiUser:
        if username not in api:
            api[username] = ApiUser(client, username)
        return api[username]

    case = apply(login)
    leader = login("yz_leader")
    task = next(t["id"] for t in leader.tasks() if t["instance_id"] == case)
    attachment = leader.get(f"/instances/{case}/attachments").get_json()[0]["id"]
    delegation = leader.post("/delegations", json={"delegate": "yz_spokes", "starts_on": "2026-04-01",
                                                  "ends_on": "2026-04-03", "reason": "出差"})
    assert delegation.status_code == 201, delegation.get_json()
    notification = leader.get("/notifications").get_json()["items"][0]["id"]
    phrase, web_phrase = (leader.post("/phrases", json={"text": text}).get_json()["id"]
                          for text in ("请补充材料。", "请核实数据。"))
    _drafts(app)
    spokesperson = _spokesperson(app)
    for username in USERS:
        login(username)
    web = {username: WebUser(app, username) for username in USERS}
    anonymous = app.test_client()
    web[ANONYMOUS] = anonymous
    ids = {"case": case, "task": task, "attachment": attachment, "delegation": delegation.get_json()["id"],
           "notification": notification, "phrase": phrase, "web_phrase": web_phrase, "spokesperson": spokesperson,
           "key": "press_conference",
           "decision_file": "host_speaker.dmn"}
    csrf = {user: WebUser.csrf_from((anonymous if user == ANONYMOUS else web[user].client).get(
        "/login" if user == ANONYMOUS else "/delegations").text) for user in web}
    yield World(app, ids, api, web, csrf, _trail_length(app))


def _spokesperson(app: Any) -> int:
    """A spokesperson on file for 渝中区, so ending a filing has something to end."""
    from engine import clock
    from engine.models import Spokesperson, Unit
    from webapp.extensions import db

    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "yuzhong"))
        entry = Spokesperson(unit_id=unit.id, year=clock.now().year, name="王敏", title="区政府新闻发言人",
                             contact="023-12345678", filed_at=clock.now(), filed_by="office_reviewer")
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
        db.session.remove()
    return entry_id


def _drafts(app: Any) -> None:
    from engine.modeling.drafts import save_draft
    from webapp.extensions import db

    with app.app_context():
        for username in ("owner", "admin"):
            for model, path in DRAFTS:
                save_draft(db.session, username, model, (ROOT / "processes" / path).read_text(encoding="utf-8"))
        db.session.commit()
        db.session.remove()


def test_every_route_has_an_entry_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}

    assert sorted(endpoints - TABLE.keys()) == [], "add one line per new endpoint to tests/hardening/access_table.py"
    assert sorted(TABLE.keys() - endpoints) == [], "the table names endpoints that no longer exist"


def test_every_user_gets_exactly_what_the_table_allows_on_every_route_and_nothing_else(world):
    cells = list(_cells())
    writes_at = next(i for i, (_n, rule, user) in enumerate(cells) if rule.method != "GET" and user in rule.allowed)
    wrong = [problem for cell in cells[:writes_at] if (problem := _check(world, *cell))]
    trail_after_refusals = _trail_length(world.app)
    wrong += [problem for cell in cells[writes_at:] if (problem := _check(world, *cell))]

    assert wrong == [], f"{len(wrong)} of {len(cells)} cells wrong:\n" + "\n".join(wrong)
    assert trail_after_refusals == world.trail_at_start, "a turned-away request left a trace in the audit trail"
    FIGURES.append(f"authorization matrix ({world.app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): "
                   f"{len(cells)} cells checked ({len(TABLE)} routes × {len(USERS) + 1} users)")


def _cells() -> Iterator[tuple[str, Rule, str]]:
    """GETs first, then refused writes, then allowed writes (which may change the world the later ones see)."""
    users = (*USERS, ANONYMOUS)
    ordered = sorted(TABLE.items(), key=lambda item: item[1].method != "GET")
    for name, rule in ordered:
        for user in users:
            if rule.method == "GET" or user not in rule.allowed:
                yield name, rule, user
    for name, rule in ordered:
        if rule.method != "GET":
            for user in users:
                if user in rule.allowed and name not in ("auth.logout",):
                    yield name, rule, user
    for user in users:  # signing out last: it ends the session every other cell of that user needs
        yield "auth.logout", TABLE["auth.logout"], user


def _check(world: World, name: str, rule: Rule, user: str) -> str | None:
    response = _request(world, rule, user)
    response.close()  # static files are streamed from disk
    missing = [header for header in SECURITY_HEADERS if header not in response.headers]
    if missing:
        return f"{name} as {user}: {response.status_code} without {', '.join(missing)}"
    expected_denied = user not in rule.allowed
    denied = response.status_code in DENIED or (not rule.signs_out and response.status_code in (301, 302, 303)
                                                and "/login" in response.headers.get("Location", ""))
    if expected_denied and not denied:
        # A refused write may also come back as a conflict (API) or as a page with an error message (web).
        denied = response.status_code == 409 or _flashed_error(world, rule, user)
    if denied != expected_denied:
        verdict = "turned away" if denied else "let through"
        return f"{name} as {user}: {verdict} ({response.status_code} {response.headers.get('Location', '')})"
    return None


def _flashed_error(world: World, rule: Rule, user: str) -> bool:
    if rule.path.startswith("/api/") or user == ANONYMOUS:
        return False
    with world.web[user].client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return any(category in ("error", "danger", "warning") for category, _message in flashes)


def _request(world: World, rule: Rule, user: str) -> Any:
    path = rule.path.format(**world.ids)
    body = {name: _placed(value, world.ids) for name, value in (rule.body or {}).items()}
    if "attachments" in path and rule.method == "POST":
        body[body.pop("file_field", "file")] = (io.BytesIO(PDF), "矩阵.pdf")
    if path.startswith("/api/"):
        client = world.web[ANONYMOUS]
        headers = world.api[user].headers if user != ANONYMOUS else {}
        if "attachments" in path and rule.method == "POST":
            return client.post(path, headers=headers, data=body, content_type="multipart/form-data")
        return client.open(path, method=rule.method, headers=headers, json=body if rule.method != "GET" else None)
    session = world.web[user]
    client = session if user == ANONYMOUS else session.client
    if rule.method == "GET":
        return client.get(path)
    return client.post(path, data={**body, "csrf_token": world.csrf[user]})


def _placed(value: Any, ids: dict[str, Any]) -> Any:
    """A body value with the world's ids in its placeholders (a batch names the task under test)."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_placed(item, ids) for item in value]
    return value


def _trail_length(app: Any) -> int:
    from engine.models import AuditEntry
    from webapp.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AuditEntry))
        db.session.remove()
    return int(count or 0)

