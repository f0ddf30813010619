"""Configuration: defaults in code, overrides from ``PRESSFLOW_*`` environment variables.

This is the only module that reads ``os.environ``. Every key is documented here and in the README.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "PRESSFLOW_"


@dataclass(frozen=True)
class Settings:
    """Every setting PressFlow reads, with its default."""

    #: SQLAlchemy URL; SQLite (WAL) by default, PostgreSQL for production.
    database_url: str = field(default_factory=lambda: f"sqlite:///{ROOT / 'instance' / 'pressflow.db'}")
    #: Signs session cookies and API tokens. Unset: a random key kept in ``instance/secret_key``.
    secret_key: str = ""
    #: Password of every demo user created by ``pressflow init --demo``.
    demo_password: str = "pressflow-demo"  # noqa: S105 - documented demo default
    #: Lifetime of an API bearer token, in seconds.
    token_ttl_seconds: int = 8 * 3600
    #: Largest attachment accepted, in megabytes.
    max_upload_mb: int = 20
    #: Folder with the BPMN/DMN files that ``pressflow init`` deploys.
    processes_dir: str = str(ROOT / "processes")
    #: Seconds the worker sleeps between timer passes when nothing is due.
    worker_poll_seconds: float = 1.0
    #: Instances advanced per timer pass (each in its own unit of work).
    timer_batch_size: int = 50
    #: Working days without any progress (no audit row) after which an application counts as stuck.
    stuck_after_workdays: int = 3
    #: Minutes a due timer may stay unfired before the application counts as stuck (workers down).
    timer_grace_minutes: int = 5
    #: Seconds a writer waits for SQLite's lock before the action is reported as a conflict.
    sqlite_busy_timeout: float = 30.0
    #: Port ``pressflow serve`` listens on (``PORT`` is honoured too, for ``make run``).
    port: int = 8000
    #: gunicorn workers started by ``pressflow serve``.
    web_workers: int = 2
    #: Minutes of inactivity after which a browser session ends.
    session_idle_minutes: int = 30
    #: Wrong passwords in a row that lock an account, and for how many minutes.
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    #: Outgoing mail for notifications; empty host = e-mail off.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "pressflow@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: int = 0
    #: The address people reach the web front end at, for links in e-mails.
    base_url: str = "http://127.0.0.1:8000"
    #: Beijing hour from which the daily digest e-mail (每日汇总) goes out to the users who chose it.
    digest_hour: int = 17
    #: Served over HTTPS (1): session cookies are sent only over HTTPS and browsers are told to stay on HTTPS.
    https: int = 0
    #: Reverse proxies in front of PressFlow whose X-Forwarded-For/-Proto/-Host are trusted (0 = none: direct).
    proxy_hops: int = 0
    #: Sign-in attempts (web form and API token) per client address: "requests/seconds".
    rate_limit_sign_in: str = "30/300"
    #: Submissions of a public form (e.g. the public interview form) per client address: "requests/seconds".
    rate_limit_public_form: str = "5/3600"
    #: Month whose first working day (09:00 Beijing time) opens the year's annual evaluations (年度考评, Art. 13).
    annual_evaluation_month: int = 12
    #: Days after that opening within which a worker that was down still starts the year's evaluations (once).
    annual_evaluation_window_days: int = 60

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from the environment, converting each value to its field's type."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if f.name == "port" and raw is None:
                raw = env.get("PORT")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.type, raw, f.name)
        if isinstance(values.get("database_url"), str):
            values["database_url"] = normalise_database_url(str(values["database_url"]))
        settings = cls(**values)  # type: ignore[arg-type]
        if not 1 <= settings.annual_evaluation_month <= 12:
            raise ValueError(f"{PREFIX}ANNUAL_EVALUATION_MONTH must be 1–12, got {settings.annual_evaluation_month}")
        if settings.annual_evaluation_window_days < 1:
            raise ValueError(f"{PREFIX}ANNUAL_EVALUATION_WINDOW_DAYS must be at least 1")
        if not settings.secret_key:
            settings = _with_secret(settings)
        return settings


def normalise_database_url(url: str) -> str:
    """Point plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _convert(type_name: object, raw: str, name: str) -> object:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from exc
    return raw


def _with_secret(settings: Settings) -> Settings:
    # Every gunicorn worker and the CLI must sign with the same key, so an unset key is generated once and
    # kept beside the database (mode 0600). Hosts that scale out share PRESSFLOW_SECRET_KEY instead.
    path = ROOT / "instance" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    else:
        key = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
    if not key:  # a concurrent creator has not written yet, or the file was emptied: never sign with ""
        key = secrets.token_hex(32)
    return Settings(**{**settings.__dict__, "secret_key": key})
