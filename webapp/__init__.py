"""PressFlow web application: the app factory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from engine import clock
from engine.config import Settings
from engine.models import TASK_ID_PATTERN
from engine.workflow.runtime import ProcessRuntime
from webapp.extensions import babel, csrf, db, migrate

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route: a non-negative id that fits the database's integer columns (32-bit)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class TaskId(BaseConverter):
    """``<task:…>``: a task id is a UUID, so ``/tasks/batch`` is never taken for a task (nor given its methods)."""

    regex = TASK_ID_PATTERN


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application; ``config`` overrides settings (tests pass a database URL)."""
    settings = Settings.from_env()
    app = Flask(__name__, instance_path=str(Path(settings.database_url.removeprefix("sqlite:///")).parent)
                if settings.database_url.startswith("sqlite:///") else None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        JSON_AS_ASCII=False,
        PRESSFLOW=settings,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which expires on its own
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Before any route is added: an id too large for the database is an unknown id (404), not a driver error (500).
    app.url_map.converters["int"] = DatabaseId
    app.url_map.converters["task"] = TaskId
    _prepare_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        _tune_database(db.engine, settings)
    clock.install_spiff_clock()
    app.extensions["pressflow_runtime"] = ProcessRuntime()
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.errors import register_error_handlers, register_input_guard
    from webapp.i18n import register_i18n
    from webapp.security import register_security
    from webapp.site import bp as site_bp
    from webapp.web import register_page_context, select_locale

    register_security(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, which a browser never sends on its own
    app.register_blueprint(api_bp)
    app.register_blueprint(site_bp)
    app.register_blueprint(auth_bp)
    for blueprint in _page_blueprints():
        app.register_blueprint(blueprint)
    register_page_context(app)
    register_i18n(app)
    register_error_handlers(app)
    register_input_guard(app)
    app.add_template_filter(_shanghai, "shanghai")


def _page_blueprints() -> list[Any]:
    from webapp.applications import bp as applications_bp
    from webapp.delegations import bp as delegations_bp
    from webapp.modeler import bp as modeler_bp
    from webapp.notifications import bp as notifications_bp
    from webapp.public import bp as public_bp
    from webapp.spokespersons import bp as spokespersons_bp
    from webapp.supervise import bp as supervise_bp
    from webapp.tasks import bp as tasks_bp
    from webapp.tasks.diagram import bp as diagram_bp

    return [tasks_bp, applications_bp, notifications_bp, delegations_bp, supervise_bp, diagram_bp, modeler_bp,
            public_bp, spokespersons_bp]


def _shanghai(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in Beijing time."""
    from engine.workdays.calendar import SHANGHAI

    return value.astimezone(SHANGHAI).strftime(fmt) if value is not None else ""


def _prepare_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _tune_database(engine: Any, settings: Settings) -> None:
    if engine.dialect.name == "sqlite":
        tune_sqlite(engine, settings.sqlite_busy_timeout)


def tune_sqlite(engine: Any, busy_timeout_seconds: float) -> None:
    """Set up every SQLite connection as the app needs it: WAL, a busy timeout, foreign keys, one writer."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so BEGIN IMMEDIATE below is honoured.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database; it saves an fsync per commit (a power cut may lose the
        # last commits, not a crash of the process).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # One writer at a time: a unit of work takes the write lock when it starts, not half-way through.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
