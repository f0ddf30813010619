"""The one clock PressFlow reads, replaceable in tests and in ``pressflow run-timers --now``.

SpiffWorkflow reads ``datetime.now(timezone.utc)`` inside its timer module and offers no hook, so
:func:`install_spiff_clock` points that module's ``datetime`` at this clock.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_now: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.UTC)  # noqa: E731
#: A clock for the current thread/context only, e.g. a dry run's fake time while real requests go on around it.
_local: ContextVar[Callable[[], _dt.datetime] | None] = ContextVar("pressflow_local_clock", default=None)


def now() -> _dt.datetime:
    """Return the current time as an aware UTC datetime."""
    local = _local.get()
    return local() if local is not None else _now()


def set_clock(source: Callable[[], _dt.datetime] | None) -> None:
    """Use ``source`` as the clock; ``None`` restores the system clock."""
    global _now
    _now = source or (lambda: _dt.datetime.now(_dt.UTC))


@contextmanager
def frozen_at(at: _dt.datetime) -> Iterator[None]:
    """Read ``at`` as the current time inside the block, then go back to the clock used before."""
    previous = _now
    set_clock(FrozenClock(at))
    try:
        yield
    finally:
        set_clock(previous)


@contextmanager
def local_clock(source: Callable[[], _dt.datetime]) -> Iterator[None]:
    """Read ``source`` as the current time in this context only (other threads keep the shared clock)."""
    token = _local.set(source)
    try:
        yield
    finally:
        _local.reset(token)


class FrozenClock:
    """A clock that stands still until moved: for tests and one-off timer passes."""

    def __init__(self, at: _dt.datetime) -> None:
        self.at = _aware(at)

    def __call__(self) -> _dt.datetime:
        return self.at

    def set(self, at: _dt.datetime) -> None:
        """Jump to ``at``."""
        self.at = _aware(at)

    def advance(self, **delta: float) -> None:
        """Move forward by a ``timedelta(**delta)``."""
        self.at = self.at + _dt.timedelta(**delta)


def _aware(at: _dt.datetime) -> _dt.datetime:
    if at.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    return at.astimezone(_dt.UTC)


class _SpiffDatetime(_dt.datetime):
    """``datetime`` whose ``now`` asks PressFlow's clock; everything else is the stdlib's."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        current = now()
        return current.astimezone(tz) if tz else current.astimezone().replace(tzinfo=None)


def install_spiff_clock() -> None:
    """Make SpiffWorkflow's timers read PressFlow's clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _SpiffDatetime  # type: ignore[misc]
