"""What a session's current transaction is, for facts read once per transaction (a lock held, delegations)."""

from __future__ import annotations

from sqlalchemy.orm import Session, SessionTransaction, scoped_session


def current_transaction(session: Session | scoped_session[Session]) -> SessionTransaction | None:
    """The root transaction the session is in now, or None between transactions."""
    plain = session() if isinstance(session, scoped_session) else session
    return plain.get_transaction()
