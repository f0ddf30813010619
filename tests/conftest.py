"""Shared fixtures: the app on each database backend, a controllable clock, and API clients for demo users.

Every test gets a fresh database: a new SQLite file, and on PostgreSQL (when ``TEST_DATABASE_URL`` is set) the
same schema emptied between tests. Tests that take the ``app`` fixture run once per backend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine import clock
from engine.models import Base
from engine.org.units import seed_demo
from engine.workdays.calendar import SHANGHAI
from engine.workflow.deploy import deploy_directory
from engine.workflow.runtime import ProcessRuntime

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
#: Every shipped process at version 1, as ``pressflow init`` deploys processes/ (one process per file, named so).
SHIPPED_V1 = {path.stem: 1 for path in sorted(PROCESSES.glob("*.bpmn"))}
DEMO_PASSWORD = "pressflow-demo"  # noqa: S105 - the documented demo password
#: The demo password hashed with one PBKDF2 round: tests sign in thousands of times, and the hashing under test is
#: werkzeug's (a real scrypt hash for every user created through the engine; ``pressflow init`` seeds with scrypt).
DEMO_PASSWORD_HASH = generate_password_hash(DEMO_PASSWORD, method="pbkdf2:sha256:1")
PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

#: Monday 2026-03-02 09:00 in Chongqing: a plain working week after the Spring Festival.
DEFAULT_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def pytest_report_header(config: pytest.Config) -> str:
    return f"PressFlow database backends: {', '.join(BACKENDS)}" + (f" ({PG_URL})" if PG_URL else "")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the hardening figures the tests' reports carry (tests/hardening/conftest.py attaches them)."""
    from tests.hardening.figures import FUZZ_REQUESTS, REPORTED

    for name, value in report.user_properties:
        if name == "hardening_figure":
            REPORTED.append(str(value))
        elif name == "fuzz_requests":
            FUZZ_REQUESTS["total"] += int(str(value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Quote the hardening figures (races held, kills survived, requests, matrix cells), then say how many tests
    passed on each database, so a CI log shows that PostgreSQL really ran."""
    from tests.hardening.figures import FUZZ_REQUESTS, REPORTED

    lines = list(REPORTED)
    if FUZZ_REQUESTS["total"]:
        lines.append(f"schemathesis: {FUZZ_REQUESTS['total']} generated API requests checked, all checks on")
    for line in lines:
        terminalreporter.write_line(f"hardening figure — {line}")
    passed = [report.nodeid for report in terminalreporter.stats.get("passed", [])]
    counts = {backend: sum(f"[{backend}" in nodeid or f"-{backend}" in nodeid for nodeid in passed)
              for backend in BACKENDS}
    terminalreporter.write_line("PressFlow tests passed per database: "
                                + ", ".join(f"{backend} {count}" for backend, count in counts.items()))


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """Create the schema once per run on the PostgreSQL test database (each pytest-xdist worker: a database of its
    own next to it, dropped at the end)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = _worker_database(PG_URL, worker) if worker else PG_URL
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(conn)
    engine.dispose()
    yield url
    if worker:
        _drop_database(url)


def _worker_database(url: str, worker: str) -> str:
    own = make_url(url)
    own = own.set(database=f"{own.database}_{worker}"[:63])
    _drop_database(own.render_as_string(hide_password=False))
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    own = make_url(url)
    server = own.set(database="postgres")
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    engine.dispose()


def _empty_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """The engine's clock, frozen at DEFAULT_NOW; move it with ``.set()`` / ``.advance()``."""
    frozen = clock.FrozenClock(DEFAULT_NOW)
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)


@dataclasses.dataclass(frozen=True)
class SqliteTemplates:
    """Two SQLite files built once per run and copied for each test: the empty schema, and the schema with the
    shipped processes deployed (at DEFAULT_NOW, by "tests") and the demo organisation seeded, with the parsed models."""

    empty: Path
    seeded: Path
    runtime: ProcessRuntime


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    folder = tmp_path_factory.mktemp("templates")
    empty, seeded = folder / "empty.db", folder / "seeded.db"
    engine = create_engine(f"sqlite:///{empty}")
    Base.metadata.create_all(engine)
    engine.dispose()
    shutil.copyfile(empty, seeded)
    runtime = populate(f"sqlite:///{seeded}")
    assert not Path(f"{seeded}-wal").exists()
    return SqliteTemplates(empty, seeded, runtime)


def populate(url: str) -> ProcessRuntime:
    """Deploy the shipped processes and seed the demo organisation, as ``pressflow init --demo`` does."""
    engine, runtime = create_engine(url), ProcessRuntime()
    try:
        with clock.frozen_at(DEFAULT_NOW), Session(engine) as session:
            deploy_directory(session, runtime, PROCESSES, "tests")
            seed_demo(session, DEMO_PASSWORD, password_hash=DEMO_PASSWORD_HASH)
    finally:
        engine.dispose()
    return runtime


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database with the schema in place."""
    if request.param == "sqlite":
        path = tmp_path / "pressflow.db"
        shutil.copyfile(request.getfixturevalue("sqlite_templates").empty, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_schema")
    _empty_pg(url)
    return url


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, frozen_clock: clock.FrozenClock) -> Iterator[Any]:
    """The application with processes deployed and the demo organisation seeded."""
    from webapp import create_app
    from webapp.extensions import db

    runtime: ProcessRuntime | None = None
    if database_url.startswith("sqlite:///"):
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        shutil.copyfile(templates.seeded, database_url.removeprefix("sqlite:///"))
        runtime = templates.runtime
    else:
        runtime = populate(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "SECRET_KEY": "test-secret-key-not-for-production"})
    # The same versions under the same ids: the parsed models carry over (SpiffWorkflow specs are read-only).
    app.extensions["pressflow_runtime"].adopt_models(runtime)
    # Tests sign in dozens of demo users from one address within one frozen minute; the rate-limit tests set theirs.
    app.config["PRESSFLOW"] = dataclasses.replace(app.config["PRESSFLOW"], rate_limit_sign_in="100000/60")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def somebody_can_act_on_every_open_task(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the database: each open task of a live application has someone who can act on it.

    Nothing may ever be left where nobody can act on it; a test that strands a task on purpose says so with
    ``@pytest.mark.leaves_stranded_tasks``.
    """
    if "app" not in request.fixturenames or request.node.get_closest_marker("leaves_stranded_tasks"):
        yield
        return
    app = request.getfixturevalue("app")
    yield
    if getattr(request.node, "rep_call_failed", False):
        return  # the test's own failure says more; the stranded tasks it left are a consequence
    stranded = stranded_open_tasks(app)
    assert not stranded, "open tasks nobody can act on:\n" + "\n".join(s.describe() for s in stranded)


def stranded_open_tasks(app: Any) -> list[Any]:
    """The open tasks no active user can act on now (see engine.org.actionability)."""
    from engine.org.actionability import stranded_tasks
    from webapp.extensions import db

    with app.app_context():
        try:
            return stranded_tasks(db.session)
        finally:
            db.session.remove()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.rep_call_failed = True  # type: ignore[attr-defined]
    return report


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class ApiUser:
    """One demo user talking to the JSON API with a bearer token."""

    def __init__(self, client: Any, username: str) -> None:
        self.client = client
        self.username = username
        response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers, **kwargs)

    def tasks(self, scope: str | None = None) -> list[dict[str, Any]]:
        response = self.get("/tasks" + (f"?scope={scope}" if scope else ""))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def task_at(self, instance_id: int, bpmn_id: str) -> dict[str, Any]:
        """Return the open task of this instance at ``bpmn_id`` that this user may act on."""
        found = [t for t in self.tasks() if t["instance_id"] == instance_id and t["bpmn_id"] == bpmn_id]
        assert found, f"{self.username} has no task {bpmn_id} on instance {instance_id}: {self.tasks()}"
        return found[0]

    def complete(self, instance_id: int, bpmn_id: str, data: dict[str, Any], status: int = 200) -> dict[str, Any]:
        task = self.task_at(instance_id, bpmn_id)
        response = self.post(f"/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def instance(self, instance_id: int) -> dict[str, Any]:
        response = self.get(f"/instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def login(client: Any) -> Any:
    """``login("yz_clerk")`` returns an :class:`ApiUser` (cached per username)."""
    users: dict[str, tuple[dt.datetime, ApiUser]] = {}

    def _login(username: str) -> ApiUser:
        # Tokens expire after hours of engine time; tests that jump the clock get a fresh one.
        issued = users.get(username)
        if issued is None or abs(clock.now() - issued[0]) > dt.timedelta(hours=1):
            users[username] = (clock.now(), ApiUser(client, username))
        return users[username][1]

    return _login


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebUser:
    """A browser-like session of one demo user: its own test client, signed in through the sign-in form."""

    def __init__(self, app: Any, username: str, password: str = DEMO_PASSWORD) -> None:
        self.client = app.test_client()
        self.username = username
        page = self.client.get("/login")
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "csrf_token": self.csrf_from(page.text), "next": "/"})
        assert response.status_code == 302, response.text

    @staticmethod
    def csrf_from(html: str) -> str:
        match = CSRF_FIELD.search(html)
        assert match, "page has no CSRF token"
        return match.group(1)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post_form(self, path: str, data: dict[str, Any] | None = None, *, page: str | None = None,
                  **kwargs: Any) -> Any:
        """POST a form the way the browser would: with the CSRF token of ``page`` (default: the inbox)."""
        token = self.csrf_from(self.client.get(page or "/", follow_redirects=True).text)
        return self.client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
def web(app: Any) -> Any:
    """``web("yz_clerk")`` returns a :class:`WebUser` signed in through the form (cached per username)."""
    users: dict[str, WebUser] = {}

    def _web(username: str) -> WebUser:
        if username not in users:
            users[username] = WebUser(app, username)
        return users[username]

    return _web
