"""Signing in: lock-out after repeated wrong passwords, idle expiry, CSRF on the sign-in form, safe redirects."""

from __future__ import annotations

from tests.conftest import DEMO_PASSWORD, WebUser


def _attempt(client, username: str, password: str, next_url: str = "/"):
    token = WebUser.csrf_from(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_url})


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, frozen_clock):
    client = app.test_client()
    for _ in range(4):
        response = _attempt(client, "yz_leader", "wrong-password")
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
    locked = _attempt(client, "yz_leader", "wrong-password")
    assert locked.status_code in (401, 403)
    # Even the right password is refused while the lock lasts, and the page says until when.
    refused = _attempt(client, "yz_leader", DEMO_PASSWORD)
    assert refused.status_code == 403
    assert "账户已锁定" in refused.text
    frozen_clock.advance(minutes=14)
    assert _attempt(client, "yz_leader", DEMO_PASSWORD).status_code == 403
    frozen_clock.advance(minutes=2)
    assert _attempt(client, "yz_leader", DEMO_PASSWORD).status_code == 302


def test_the_api_token_endpoint_shares_the_lock_out(app, client, frozen_clock):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "yz_clerk", "password": "nope-nope"})
    response = client.post("/api/v1/auth/token", json={"username": "yz_clerk", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_locked"


def test_a_successful_sign_in_resets_the_count_of_wrong_passwords(app, frozen_clock):
    client = app.test_client()
    for _ in range(4):
        _attempt(client, "yz_clerk", "wrong-password")
    assert _attempt(client, "yz_clerk", DEMO_PASSWORD).status_code == 302
    other = app.test_client()
    for _ in range(4):
        _attempt(other, "yz_clerk", "wrong-password")
    assert _attempt(other, "yz_clerk", DEMO_PASSWORD).status_code == 302


def test_the_sign_in_form_without_its_csrf_token_is_refused(app):
    response = app.test_client().post("/login", data={"username": "yz_clerk", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "安全令牌" in response.text


def test_an_idle_session_ends_and_sends_the_person_back_to_sign_in(app, web, frozen_clock):
    clerk = web("yz_clerk")
    assert clerk.get("/tasks").status_code == 200
    frozen_clock.advance(minutes=29)
    assert clerk.get("/tasks").status_code == 200
    frozen_clock.advance(minutes=31)
    expired = clerk.get("/tasks")
    assert expired.status_code == 302
    assert "/login" in expired.location
    assert "登录已超时" in clerk.get(expired.location).text


def test_sign_in_never_redirects_to_another_site(app):
    client = app.test_client()
    response = _attempt(client, "yz_clerk", DEMO_PASSWORD, next_url="https://evil.example/steal")
    assert response.status_code == 302
    assert "evil.example" not in response.location
    assert _attempt(app.test_client(), "yz_clerk", DEMO_PASSWORD, next_url="//evil.example").location == "/"


def test_signing_out_needs_a_post_and_ends_the_session(app, web):
    clerk = web("yz_clerk")
    assert clerk.get("/logout").status_code == 405
    assert clerk.post_form("/logout", page="/tasks").status_code == 302
    assert clerk.get("/tasks").status_code == 302


