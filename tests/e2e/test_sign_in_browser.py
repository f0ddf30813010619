"""Signing in with a real browser: the session cookie, the CSRF-protected form and the lock-out message."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_clerk_signs_in_and_sees_their_name_then_signs_out(browser, live_server):
    page = sign_in(browser, live_server, "yz_clerk")
    assert "渝中区经办人 王敏" in page.inner_text("header")
    page.click("header >> text=退出")
    page.wait_for_url("**/login")
    assert "您已退出登录" in page.inner_text("main")


def test_wrong_password_shows_a_chinese_error_and_no_session(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "yz_clerk")
    page.fill("#password", "wrong-password")
    page.click("main button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("main")
    assert page.locator("header >> text=退出").count() == 0
