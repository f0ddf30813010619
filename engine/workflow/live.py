"""Workflows this process has just saved, kept to be continued without restoring them from their state.

Restoring a workflow (``ProcessRuntime.load``) rebuilds every task the instance ever ran, so it costs as much as
the history is long; the next action on an instance usually comes to the process that saved it a moment ago. A
workflow is kept under the digest of the exact state it was stored as, once the transaction that stored it has
committed, and handed out (taken, so it has one owner) only for a state with that digest: a state another process
or an operator wrote since has another digest, and a database restored from a backup has other rows, so neither can
be answered with a stale workflow. A unit of work that fails keeps nothing: its workflow may hold changes the
database never got.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

#: How many workflows, and how many characters of their states in all, one process keeps.
MAX_WORKFLOWS = 64
MAX_STATE_CHARS = 4_000_000


def digest(state: str) -> bytes:
    """A digest of a stored state: the key a kept workflow is found by."""
    return hashlib.blake2b(state.encode("utf-8"), digest_size=20).digest()


@dataclass(frozen=True)
class _Kept:
    spec: Any
    workflow: BpmnWorkflow
    chars: int


class LiveWorkflows:
    """A bounded, least-recently-kept-first store of workflows by the digest of their stored state."""

    def __init__(self, max_workflows: int = MAX_WORKFLOWS, max_chars: int = MAX_STATE_CHARS) -> None:
        self._kept: OrderedDict[bytes, _Kept] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.max_workflows, self.max_chars = max_workflows, max_chars

    def take(self, state: str, spec: Any) -> BpmnWorkflow | None:
        """Hand out (and forget) the workflow stored as ``state`` with this spec, or None."""
        with self._lock:
            kept = self._kept.pop(digest(state), None)
            if kept is not None:
                self._chars -= kept.chars
        return kept.workflow if kept is not None and kept.spec is spec else None

    def keep(self, state: str, workflow: BpmnWorkflow) -> None:
        """Keep a workflow whose committed state is ``state``; drop the oldest beyond the bounds."""
        if len(state) > self.max_chars:
            return
        with self._lock:
            key = digest(state)
            old = self._kept.pop(key, None)
            if old is not None:
                self._chars -= old.chars
            self._kept[key] = _Kept(workflow.spec, workflow, len(state))
            self._chars += len(state)
            while len(self._kept) > self.max_workflows or self._chars > self.max_chars:
                _, dropped = self._kept.popitem(last=False)
                self._chars -= dropped.chars

    def clear(self) -> None:
        """Forget every workflow (a migration of versions, tests)."""
        with self._lock:
            self._kept.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._kept)
