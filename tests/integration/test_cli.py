"""The ``pressflow`` command against a fresh database: set-up, deployment, users, the calendar and the timer worker.

Every test starts from an empty database: a new SQLite file, or on PostgreSQL (when ``TEST_DATABASE_URL`` is set) a
throwaway database of its own, because ``init`` runs the Alembic migrations and conftest has already created tables
in the shared one. The commands build the app exactly as a shell would: from ``PRESSFLOW_*`` environment variables,
through the factory of the ``pressflow`` group.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, make_url, select

from engine.org.units import DEMO_USERS
from engine.workdays.calendar import SHANGHAI
from tests.conftest import BACKENDS, DEMO_PASSWORD, PG_URL, PROCESSES, ApiUser
from tests.integration import chain

BPMN = PROCESSES / "press_conference.bpmn"
DMN = PROCESSES / "host_speaker.dmn"
TOPIC_DUE = '<spiffworkflow:property name="dueInWorkdays" value="5" />'
LEADER_FORM_KEY = '<spiffworkflow:property name="formKey" value="leader_review" />'

Run = Callable[..., Result]


@contextmanager
def throwaway_pg_database(server_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database on the server of ``server_url``; drop it (and its sessions) afterwards."""
    import psycopg
    from psycopg import sql

    server = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pressflow.db'}"
        return
    with throwaway_pg_database(PG_URL, "pf_cli") as url:
        yield url


@pytest.fixture
def apps() -> Iterator[list[Any]]:
    """Every app built during the test; their connection pools are closed at the end."""
    from webapp.extensions import db

    built: list[Any] = []
    yield built
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def pressflow(empty_database: str, monkeypatch: pytest.MonkeyPatch, apps: list[Any]) -> Iterator[Run]:
    """``pressflow("init", "--demo")`` runs the command with ``PRESSFLOW_DATABASE_URL`` pointing at the database."""
    from flask.cli import ScriptInfo

    from webapp.cli import main

    monkeypatch.setenv("PRESSFLOW_DATABASE_URL", empty_database)
    monkeypatch.setenv("PRESSFLOW_SECRET_KEY", "cli-test-secret-key-not-for-production")
    monkeypatch.setenv("PRESSFLOW_DEMO_PASSWORD", DEMO_PASSWORD)

    def create_app() -> Any:
        app = main.create_app()  # the group's own factory: reads the PRESSFLOW_* environment
        apps.append(app)
        return app

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=create_app))

    with _logging_restored():
        yield run


@contextmanager
def _logging_restored() -> Iterator[None]:
    # Alembic's env.py calls logging.config.fileConfig: it disables existing loggers and adds a handler bound to the
    # CliRunner's stream. Undo that so later tests in this process log as before.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    disabled = {name: lg.disabled for name, lg in logging.Logger.manager.loggerDict.items()
                if isinstance(lg, logging.Logger)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, lg in logging.Logger.manager.loggerDict.items():
            if isinstance(lg, logging.Logger):
                lg.disabled = disabled.get(name, False)


@pytest.fixture
def web(pressflow: Run, apps: list[Any]) -> Callable[[], Any]:
    """``web()`` builds the web app from the same environment and returns a test client."""
    from webapp import create_app

    def client() -> Any:
        app = create_app({"TESTING": True})
        apps.append(app)
        return app.test_client()

    return client


@pytest.fixture
def signal_handlers_restored() -> Iterator[None]:
    """``pressflow worker`` installs SIGTERM/SIGINT handlers; give pytest its own back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return result.stderr


def processes(client: Any) -> list[dict[str, Any]]:
    return ApiUser(client, "yz_clerk").get("/processes").get_json()


def conference_versions(client: Any) -> list[tuple[str, int]]:
    """(key, version) of the deployed press-conference process (other shipped processes deploy beside it)."""
    return [(p["key"], p["version"]) for p in processes(client) if p["key"] == "press_conference"]


def start_application(client: Any) -> int:
    response = ApiUser(client, "yz_clerk").post("/instances", json={"process": "press_conference"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def first_task_due_day(client: Any, instance_id: int) -> dt.date:
    (task,) = ApiUser(client, "yz_clerk").instance(instance_id)["tasks"]
    assert task["bpmn_id"] == "topic_application"
    return dt.datetime.fromisoformat(task["due_at"]).astimezone(SHANGHAI).date()


def user_count(client: Any) -> int:
    from engine.models import User
    from webapp.extensions import db

    with client.application.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def model_file(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the press-conference model with one line changed."""
    text = BPMN.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the model no longer contains exactly one {old!r}"
    path = tmp_path / "press_conference.bpmn"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# --- init ---------------------------------------------------------------------------------------------------------


def test_init_demo_migrates_deploys_the_process_and_prints_the_demo_logins(pressflow, web):
    output = ok(pressflow("init", "--demo"))

    assert "流程 press_conference v1" in output and "新部署" in output
    assert f"新增用户 {len(DEMO_USERS)} 个" in output
    assert f"密码均为 {DEMO_PASSWORD}" in output
    for username, _name, _grants in DEMO_USERS:
        assert f"  {username} " in output
    client = web()
    assert conference_versions(client) == [("press_conference", 1)]
    # Every shipped model in processes/ is deployed (emergency releases, spokesperson filing …).
    assert {p["key"] for p in processes(client)} >= {"press_conference", "emergency_release",
                                                     "spokesperson_appointment"}
    assert ApiUser(client, "office_reviewer").get("/me").get_json()["grants"] == [
        {"role": "office_reviewer", "unit": "office"}
    ]


def test_init_without_demo_creates_no_users(pressflow, web):
    output = ok(pressflow("init"))

    assert "流程 press_conference v1" in output
    assert "演示" not in output
    assert user_count(web()) == 0


def test_running_init_again_keeps_the_version_the_users_and_an_application_already_started(pressflow, web):
    ok(pressflow("init", "--demo"))
    instance_id = start_application(web())

    output = ok(pressflow("init", "--demo"))

    assert "流程 press_conference v1" in output and "已是最新" in output
    assert "新增用户 0 个" in output
    client = web()
    assert user_count(client) == len(DEMO_USERS)
    assert conference_versions(client) == [("press_conference", 1)]
    kept = ApiUser(client, "yz_clerk").instance(instance_id)
    assert (kept["status"], kept["version"], kept["started_by"]) == ("running", 1, "yz_clerk")
    assert [t["bpmn_id"] for t in kept["tasks"]] == ["topic_application"]


# --- deploy -------------------------------------------------------------------------------------------------------


def test_deploying_a_changed_model_creates_version_2_while_started_applications_stay_on_version_1(
    pressflow, web, tmp_path, frozen_clock
):
    ok(pressflow("init", "--demo"))
    on_v1 = start_application(web())
    changed = model_file(tmp_path, TOPIC_DUE, TOPIC_DUE.replace('value="5"', 'value="8"'))

    output = ok(pressflow("deploy", str(changed), str(DMN), "--note", "申报期限改为 8 个工作日", "--by", "owner"))

    assert "已部署新版本：press_conference v2" in output
    client = web()
    assert conference_versions(client) == [("press_conference", 2)]
    on_v2 = start_application(client)
    clerk = ApiUser(client, "yz_clerk")
    assert (clerk.instance(on_v1)["version"], clerk.instance(on_v2)["version"]) == (1, 2)
    # Created Monday 2026-03-02: 5 working days on v1, 8 on v2.
    assert first_task_due_day(client, on_v1) == dt.date(2026, 3, 9)
    assert first_task_due_day(client, on_v2) == dt.date(2026, 3, 12)
    # The v1 application still runs on its own model.
    assert chain.upload(clerk, on_v1, "work_plan").status_code == 201
    assert chain.upload(clerk, on_v1, "release_text").status_code == 201
    moved = clerk.complete(on_v1, "topic_application", chain.application())
    assert (moved["version"], [t["bpmn_id"] for t in moved["tasks"]]) == (1, ["leader_review"])


def test_deploying_the_same_model_again_keeps_the_newest_version(pressflow, web):
    ok(pressflow("init"))

    output = ok(pressflow("deploy", str(BPMN), str(DMN)))

    assert "内容未变化，保持：press_conference v1" in output


def test_deploy_refuses_a_file_that_is_not_well_formed_xml(pressflow, web, tmp_path):
    ok(pressflow("init", "--demo"))
    broken = tmp_path / "press_conference.bpmn"
    broken.write_text(BPMN.read_text(encoding="utf-8")[:2000], encoding="utf-8")

    message = refused(pressflow("deploy", str(broken), str(DMN)))

    assert "错误：" in message and "XML 格式错误" in message
    assert conference_versions(web()) == [("press_conference", 1)]


def test_deploy_refuses_a_model_that_breaks_a_pressflow_rule_and_names_the_task(pressflow, web, tmp_path):
    ok(pressflow("init", "--demo"))
    without_form = model_file(tmp_path, LEADER_FORM_KEY, "")

    message = refused(pressflow("deploy", str(without_form), str(DMN)))

    assert "错误：流程模型未通过校验" in message
    assert "[leader_review] 用户任务缺少 formKey 属性" in message
    assert conference_versions(web()) == [("press_conference", 1)]


def test_deploy_without_a_bpmn_file_is_refused(pressflow):
    ok(pressflow("init"))

    assert "未提供 .bpmn 文件" in refused(pressflow("deploy", str(DMN)))


# --- users --------------------------------------------------------------------------------------------------------


def test_a_user_created_and_granted_on_the_command_line_can_log_in_and_apply(pressflow, web):
    ok(pressflow("init", "--demo"))

    assert "已创建用户 yz_clerk2" in ok(
        pressflow("user", "create", "yz_clerk2", "--name", "渝中区经办人 张帆", "--password", "zhangfan-2026")
    )
    assert "已授予 yz_clerk2 在 yuzhong 的角色 applicant" in ok(pressflow("user", "grant", "yz_clerk2", "applicant",
                                                                   "yuzhong"))

    client = web()
    token = client.post("/api/v1/auth/token", json={"username": "yz_clerk2", "password": "zhangfan-2026"})
    assert token.status_code == 200, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert (me["display_name"], me["grants"]) == ("渝中区经办人 张帆", [{"role": "applicant", "unit": "yuzhong"}])
    started = client.post("/api/v1/instances", json={"process": "press_conference"}, headers=headers)
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["unit"] == "yuzhong"


@pytest.mark.parametrize(("username", "role", "unit", "message"), [
    ("yz_clerk2", "astronaut", "yuzhong", "错误：未知角色 astronaut"),
    ("yz_clerk2", "applicant", "nowhere", "错误：单位 nowhere 不存在"),
    ("nobody", "applicant", "yuzhong", "错误：用户 nobody 不存在"),
])
def test_user_grant_refuses_an_unknown_role_unit_or_user(pressflow, web, username, role, unit, message):
    ok(pressflow("init", "--demo"))
    ok(pressflow("user", "create", "yz_clerk2", "--name", "渝中区经办人 张帆", "--password", "zhangfan-2026"))

    assert message in refused(pressflow("user", "grant", username, role, unit))

    client = web()
    token = client.post("/api/v1/auth/token", json={"username": "yz_clerk2", "password": "zhangfan-2026"})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.get_json()["grants"] == []


@pytest.mark.parametrize(("username", "password", "message"), [
    ("yz_clerk", "long-enough-1", "错误：用户 yz_clerk 已存在"),
    ("newcomer", "short", "错误：密码至少 8 位"),
    ("有空格 的名字", "long-enough-1", "错误：用户名无效"),
])
def test_user_create_refuses_a_taken_name_a_short_password_or_a_bad_username(
    pressflow, web, username, password, message
):
    ok(pressflow("init", "--demo"))

    assert message in refused(pressflow("user", "create", username, "--name", "某人", "--password", password))

    assert user_count(web()) == len(DEMO_USERS)


# --- calendar -----------------------------------------------------------------------------------------------------


def add_workdays(client: Any, start: str, days: int) -> dict[str, Any]:
    response = ApiUser(client, "yz_clerk").get(f"/calendar/add-workdays?start={start}&days={days}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_calendar_import_of_a_malformed_file_fails_names_the_line_and_imports_nothing(pressflow, web, tmp_path):
    ok(pressflow("init", "--demo"))
    notice = tmp_path / "2027.csv"
    notice.write_text("date,type,note\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n", encoding="utf-8")

    message = refused(pressflow("calendar", "import", str(notice)))

    assert "错误：第 3 行" in message and "2027-02-30" in message
    assert add_workdays(web(), "2026-12-31", 1) == {"date": "2027-01-01", "provisional": True}


def test_calendar_import_of_a_gbk_file_saved_by_excel_fails_and_says_to_save_as_utf8(pressflow, tmp_path):
    ok(pressflow("init"))
    notice = tmp_path / "2027.csv"
    notice.write_bytes("date,type,note\n2027-01-01,放假,元旦\n".encode("gbk"))

    assert "错误：2027.csv 不是 UTF-8 编码" in refused(pressflow("calendar", "import", str(notice)))


def test_calendar_import_of_a_notice_makes_its_year_definite(pressflow, web, tmp_path):
    ok(pressflow("init", "--demo"))
    notice = tmp_path / "2027.csv"
    notice.write_text("\ufeffdate,type,note\n2027-01-01,holiday,元旦\n2027-01-02,workday,元旦调休\n", encoding="utf-8")

    assert "已导入 2 个调整日，年份：2027" in ok(pressflow("calendar", "import", str(notice)))

    # Thursday 2026-12-31 + 1: Friday 1 January is a holiday, Saturday 2 January a make-up working day.
    assert add_workdays(web(), "2026-12-31", 1) == {"date": "2027-01-02", "provisional": False}


# --- worker -------------------------------------------------------------------------------------------------------


def test_worker_once_advances_an_application_whose_conference_has_started(
    pressflow, web, frozen_clock, signal_handlers_restored
):
    ok(pressflow("init", "--demo"))
    client = web()
    users: dict[str, ApiUser] = {}
    instance_id = chain.to_conference_timer(lambda name: users.setdefault(name, ApiUser(client, name)))

    early = ok(pressflow("worker", "--once"))

    assert "定时任务进程已启动" in early and "定时任务进程已停止" in early
    assert "已推进实例" not in early
    assert ApiUser(client, "supervisor").instance(instance_id)["status"] == "waiting"

    frozen_clock.set(dt.datetime(2026, 3, 20, 10, 1, tzinfo=SHANGHAI))
    assert f"已推进实例 {instance_id}" in ok(pressflow("worker", "--once"))

    advanced = ApiUser(client, "onsite").instance(instance_id)
    assert advanced["status"] == "running"
    assert [t["bpmn_id"] for t in advanced["tasks"]] == ["conference_record"]


def test_init_with_samples_makes_them_once_and_refuses_them_without_the_demo_users(pressflow, web):
    misused = pressflow("init", "--samples")
    assert (misused.exit_code, "--samples 须与 --demo 一起使用" in misused.output) == (2, True)

    assert "示例申请：新建 6 份" in ok(pressflow("init", "--demo", "--samples"))
    assert "示例申请：数据库中已有申请，未新建" in ok(pressflow("init", "--demo", "--samples"))


def test_init_still_succeeds_and_says_why_when_the_samples_do_not_fit_the_deployed_process(pressflow, tmp_path):
    from tests.model_edits import with_secrecy_recheck

    ok(pressflow("init", "--demo"))
    changed = tmp_path / "press_conference.bpmn"
    changed.write_text(with_secrecy_recheck(), encoding="utf-8")
    ok(pressflow("deploy", str(changed), str(DMN), "--note", "增设保密复核"))

    result = pressflow("init", "--demo", "--samples")

    assert result.exit_code == 0, result.output
    assert "示例申请未创建" in result.stderr and "office_topic_review" in result.stderr


def test_init_after_a_process_owner_deployed_a_newer_version_keeps_it_the_newest(pressflow, web, tmp_path):
    ok(pressflow("init", "--demo"))
    changed = model_file(tmp_path, TOPIC_DUE, TOPIC_DUE.replace('"5"', '"7"'))
    ok(pressflow("deploy", str(changed), str(DMN), "--note", "选题申报期限改为 7 个工作日"))

    again = ok(pressflow("init", "--demo"))  # a restart: make run again, or a container starting

    assert "流程 press_conference v2" in again and "已是最新" in again
    assert conference_versions(web()) == [("press_conference", 2)]
