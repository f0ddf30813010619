"""The main pages speak Simplified Chinese by default and English once chosen, leaving only data in Chinese.

"Data" is what people typed or what the organisation is called (titles, comments, unit and user names, file names)
and the texts the engine stored when something happened (notifications, audit-trail comments); everything else on
the page must come from the catalogue.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from engine.models import AuditEntry, Comment, Delegation, Instance, Notification, Unit, User
from tests.conftest import DEMO_PASSWORD, WebUser
from tests.integration import chain
from webapp.web import LANGUAGES

CATALOGUE = Path(__file__).resolve().parents[2] / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
#: A run of Chinese characters or full-width punctuation (（）：，、。《》), with what little lies between them.
CHINESE = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
CJK = re.compile(f"[{CHINESE}](?:[^{CHINESE}]{{0,3}}[{CHINESE}])*")
RETURN_COMMENT = "请补充发布文稿中的数据来源"
DISCUSSION = "数据来源已补充，请再看一下"
AWAY = "出差"
#: Attributes people read or hear (tooltips, placeholders, screen-reader labels, texts the scripts show).
READ_ATTRIBUTES = re.compile(r"^(title|alt|placeholder|aria-label|data-[\w-]*(text|label|title))$")


@pytest.fixture(scope="session", autouse=True)
def compiled_english_catalogue() -> None:
    """Compile the English .mo when it is missing or older than the .po (`make test` has usually done it)."""
    compiled = CATALOGUE.with_suffix(".mo")
    if compiled.exists() and compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime:
        return
    with CATALOGUE.open("rb") as po:
        catalog = read_po(po, locale="en")
    with compiled.open("wb") as mo:
        write_mo(mo, catalog)


class _ReadableText(HTMLParser):
    """The text a person sees or hears on a page: element text and the readable attributes, without scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts.extend(value for name, value in attrs if value and READ_ATTRIBUTES.match(name))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def readable_text(page: str) -> str:
    parser = _ReadableText()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def untranslated(page: str, data: list[str]) -> list[str]:
    """Snippets around the Chinese that is left once the known data is taken out."""
    text = readable_text(page)
    for known in data:
        text = text.replace(known, "▯")
    return [text[max(0, m.start() - 30):m.end() + 30] for m in CJK.finditer(text)]


@pytest.fixture
def workload(app: Any, login: Any, web: Any) -> dict[str, str]:
    """A yuzhong application sent back to the clerk, a second one waiting for the leader, a comment and
    delegations both ways; returns the main pages by name as (user, path)."""
    sent_back = chain.apply(login)
    login("yz_leader").complete(sent_back, "leader_review", {"decision": "return", "comment": RETURN_COMMENT})
    waiting = chain.apply(login)
    clerk, leader = web("yz_clerk"), web("yz_leader")
    page = f"/applications/{sent_back}"
    assert clerk.post_form(f"{page}/comments", {"body": DISCUSSION}, page=page).status_code == 302
    for user, delegate in ((leader, "yz_clerk"), (clerk, "yz_spokes")):
        window = {"starts_on": "2026-03-02", "ends_on": "2026-03-06", "reason": AWAY}
        response = user.post_form("/delegations", {"delegate": delegate, **window}, page="/delegations")
        assert response.status_code == 302, response.text
    return {
        "inbox": ("yz_clerk", "/tasks"),
        "done": ("yz_clerk", "/tasks/done"),
        "returned task": ("yz_clerk", f"/tasks/{login('yz_clerk').task_at(sent_back, 'topic_application')['id']}"),
        "review task": ("yz_leader", f"/tasks/{login('yz_leader').task_at(waiting, 'leader_review')['id']}"),
        "leader inbox": ("yz_leader", "/tasks"),
        "my applications": ("yz_clerk", "/applications/mine"),
        "new application": ("yz_clerk", "/applications/new"),
        "application": ("yz_clerk", page),
        "notifications": ("yz_clerk", "/notifications"),
        "delegations": ("yz_clerk", "/delegations"),
    }


def known_data(app: Any) -> list[str]:
    """Every data text the pages may show, longest first so that no shorter one splits a longer one."""
    from webapp.extensions import db

    with app.app_context():
        session = db.session
        texts = [*session.scalars(select(Unit.name)), *session.scalars(select(User.display_name)),
                 *session.scalars(select(Instance.title)), *session.scalars(select(Notification.message)),
                 *session.scalars(select(Comment.body)), *session.scalars(select(Delegation.reason)),
                 *session.scalars(select(AuditEntry.comment))]
        db.session.remove()
    application = chain.application()
    texts += [application["title"], application["summary"], RETURN_COMMENT, "工作方案.pdf", "发布文稿.pdf",
              LANGUAGES["zh"]]
    return sorted({t for t in texts if t}, key=len, reverse=True)


def choose_english(user: WebUser, path: str) -> None:
    response = user.post_form("/language", {"lang": "en", "next": path}, page=path)
    assert response.status_code == 302 and response.headers["Location"].endswith(path)


def english_problems(name: str, page: Any, data: list[str]) -> list[str]:
    """Problems of one page shown in English (empty when it is all English apart from data)."""
    if page.status_code != 200:
        return [f"{name}: HTTP {page.status_code}"]
    problems = [f"{name}: <html lang> is not en"] if '<html lang="en">' not in page.text else []
    return problems + [f"{name}: …{snippet}…" for snippet in untranslated(page.text, data)]


def test_main_pages_are_in_simplified_chinese_by_default(app, web, workload):
    for name, (username, path) in workload.items():
        page = web(username).get(path)
        assert page.status_code == 200, f"{name} {path}"
        assert '<html lang="zh-CN">' in page.text, name
        assert "时间以北京时间显示" in page.text and "跳到正文" in page.text, name
        assert "Times are shown in Beijing time" not in page.text, name


def test_main_pages_are_all_english_after_choosing_english(app, web, workload):
    for username in {username for username, _path in workload.values()}:
        choose_english(web(username), "/tasks")
    data = known_data(app)

    problems = [problem for name, (username, path) in workload.items()
                for problem in english_problems(f"{name} {path}", web(username).get(path), data)]

    assert not problems, "Chinese left on English pages (wrap it in _() or |t, then translate):\n" + "\n".join(problems)
    inbox = readable_text(web("yz_clerk").get("/tasks").text)
    assert "My tasks" in inbox and "Topic application" in inbox and "Times are shown in Beijing time" in inbox


def test_public_pages_switch_to_english_and_the_choice_survives_signing_in(app):
    visitor = app.test_client()
    token = WebUser.csrf_from(visitor.get("/login").text)
    assert "用户名" in visitor.get("/login").text

    visitor.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    page = visitor.get("/login")
    assert english_problems("/login", page, [LANGUAGES["zh"]]) == []
    assert "Username" in page.text and "Password" in page.text
    assert english_problems("/", visitor.get("/"), [LANGUAGES["zh"]]) == []
    missing = visitor.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "Not found" in missing.text
    assert english_problems("/ in Chinese", app.test_client().get("/"), []) != [], "the check must see Chinese"

    visitor.post("/login", data={"username": "yz_clerk", "password": DEMO_PASSWORD, "next": "/tasks",
                                 "csrf_token": WebUser.csrf_from(page.text)})
    inbox = visitor.get("/tasks")
    assert english_problems("/tasks", inbox, known_data(app)) == []
    assert "My tasks" in inbox.text


def test_choosing_chinese_again_brings_the_chinese_pages_back(app, web):
    clerk = web("yz_clerk")
    choose_english(clerk, "/tasks")
    assert "My tasks" in clerk.get("/tasks").text

    response = clerk.post_form("/language", {"lang": "zh", "next": "/tasks"}, page="/tasks")

    assert response.status_code == 302
    page = clerk.get("/tasks").text
    assert "我的待办" in page and "My tasks" not in page
