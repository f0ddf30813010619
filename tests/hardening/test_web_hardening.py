"""Web hardening: security headers on every response, a CSP the templates keep to, HTTPS cookies behind a proxy,
rate limits shared by every worker, and attachments that a browser downloads instead of running."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from werkzeug.http import parse_options_header

from tests.conftest import DEMO_PASSWORD, DEMO_PASSWORD_HASH, ROOT
from tests.integration.chain import start, upload
from webapp.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

TEMPLATES = sorted((ROOT / "webapp").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:json|xml)\")[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def limit(app: Any, text: str) -> None:
    app.config["PRESSFLOW"] = dataclasses.replace(app.config["PRESSFLOW"], rate_limit_sign_in=text)


def sign_in(client: Any, password: str = "wrong-password", **headers: str) -> Any:
    return client.post("/api/v1/auth/token", json={"username": "yz_clerk", "password": password}, headers=headers)


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/openapi.json", "/no-such-page", "/api/v1/tasks"])
def test_every_kind_of_response_carries_the_security_headers(client, path):
    response = client.get(path)

    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)


def test_the_policy_allows_scripts_only_from_our_own_files_and_no_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_script_event_handlers_or_javascript_urls(template: Path):
    html = template.read_text(encoding="utf-8")

    assert not INLINE_SCRIPT.search(html)
    assert not HANDLER_ATTRIBUTE.search(html)
    assert "javascript:" not in html.lower()


def test_behind_an_https_proxy_the_session_cookie_is_secure_and_the_client_address_is_the_forwarded_one(
        monkeypatch, database_url, frozen_clock):
    from engine.org.units import seed_demo
    from webapp import create_app
    from webapp.extensions import db

    monkeypatch.setenv("PRESSFLOW_HTTPS", "1")
    monkeypatch.setenv("PRESSFLOW_PROXY_HOPS", "1")
    monkeypatch.setenv("PRESSFLOW_RATE_LIMIT_SIGN_IN", "1/60")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key-not-for-production"})
    with app.app_context():
        seed_demo(db.session, DEMO_PASSWORD, password_hash=DEMO_PASSWORD_HASH)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "Referer": "https://localhost/login"}
    token = client.get("/login", headers=forwarded)

    response = client.post("/login", headers=forwarded, data={
        "username": "yz_clerk", "password": DEMO_PASSWORD,
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', token.text).group(1)})

    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert sign_in(client, **forwarded).status_code == 429  # the form's attempt and this one: same address
    assert sign_in(client, **{**forwarded, "X-Forwarded-For": "198.51.100.9"}).status_code == 401
    with app.app_context():
        db.engine.dispose()


def test_sign_in_is_refused_with_429_and_a_wait_once_an_address_tries_too_often(app, client, frozen_clock):
    limit(app, "3/60")

    statuses = [sign_in(client).status_code for _ in range(3)]
    refused = sign_in(client, password=DEMO_PASSWORD)

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "请求过于频繁" in refused.get_json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    frozen_clock.advance(seconds=61)
    assert sign_in(client, password=DEMO_PASSWORD).status_code == 200


def test_the_sign_in_form_is_limited_too_and_says_so_on_a_page(app, client, frozen_clock):
    limit(app, "1/60")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"username": "yz_clerk", "password": "wrong-password", "csrf_token": token}

    assert client.post("/login", data=form).status_code == 401
    refused = client.post("/login", data=form, headers={"Accept": "text/html"})

    assert refused.status_code == 429
    assert "请求过于频繁" in refused.text
    assert client.get("/login").status_code == 200  # only attempts count, not looking at the form


def test_two_workers_share_one_count_because_it_lives_in_the_database(app, database_url, frozen_clock):
    from webapp import create_app
    from webapp.extensions import db

    second = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key-not-for-production"})
    limit(app, "2/60")
    limit(second, "2/60")

    first_tries = [sign_in(app.test_client()).status_code for _ in range(2)]
    other_worker = sign_in(second.test_client())

    assert first_tries == [401, 401]
    assert other_worker.status_code == 429
    with second.app_context():
        db.engine.dispose()


def test_an_attachment_is_served_as_a_download_with_its_name_quoted_and_sniffing_off(app, login):
    clerk = login("yz_clerk")
    instance_id = start(login)
    hostile = "报告; filename=evil.html; x=.txt"
    stored = upload(clerk, instance_id, "other", hostile, b"<script>alert(1)</script>")
    assert stored.status_code == 201, stored.get_json()
    attachment = [a for a in clerk.get(f"/instances/{instance_id}/attachments").get_json() if a["kind"] == "other"][0]

    response = clerk.get(f"/instances/{instance_id}/attachments/{attachment['id']}")

    kind, params = parse_options_header(response.headers["Content-Disposition"])
    assert kind == "attachment"
    assert params == {"filename": hostile}  # one quoted name, exactly the uploaded one: no injected parameter
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _concrete(rule: str) -> str:
    """A URL for a route pattern: ids 1, task ids a UUID, the first choice of an ``any(…)``, "x" for other parts."""
    rule = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule)
    rule = re.sub(r"<int:[^>]+>", "1", rule)
    rule = re.sub(r"<task:[^>]+>", "00000000-0000-4000-8000-000000000000", rule)
    return re.sub(r"<[^>]+>", "x", rule)


def test_every_form_post_without_a_csrf_token_is_refused_and_changes_nothing(app, web):
    leader = web("yz_leader")
    posts = sorted({_concrete(rule.rule) for rule in app.url_map.iter_rules()
                    if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/")})

    answers = {path: leader.client.post(path, data={"comment": "x", "reason": "x"}) for path in posts}

    assert len(posts) >= 35
    refused = {path: r.status_code for path, r in answers.items() if r.status_code != 400 or "安全令牌" not in r.text}
    assert refused == {}, "POST routes that accepted a request without a CSRF token"
    assert leader.get("/tasks").status_code == 200  # still signed in: /logout without a token did nothing
