"""gunicorn server hooks for ``pressflow serve --with-worker``: one ``pressflow worker`` lives and dies with the server.

The embedded set-up (``make run``) is one command on one machine, and without a worker the conference timer never
fires and late tasks are never chased. The arbiter starts the worker once it is ready and stops it on the way out, so
Ctrl+C or SIGTERM ends both; production runs ``pressflow worker`` as processes of its own instead.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

STOP_SECONDS = 15
_PR_SET_PDEATHSIG = 1
_worker: subprocess.Popen[bytes] | None = None


def _die_with_parent() -> None:
    """Have Linux send SIGTERM to the worker if the server is killed outright (no on_exit), so none is orphaned."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):  # not Linux: on_exit still stops it in every orderly shutdown
        pass


def when_ready(server: Any) -> None:
    """Start the timer worker next to the web server."""
    global _worker
    pressflow = shutil.which("pressflow") or str(Path(sys.executable).parent / "pressflow")
    _worker = subprocess.Popen([pressflow, "worker"], preexec_fn=_die_with_parent)  # noqa: S603 - our own command
    server.log.info("Started pressflow worker (pid %s)", _worker.pid)


def on_exit(server: Any) -> None:
    """Stop the worker between two of its passes, as SIGTERM always does."""
    if _worker is None or _worker.poll() is not None:
        return
    _worker.terminate()
    try:
        _worker.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.log.warning("pressflow worker did not stop within %ss; killing it", STOP_SECONDS)
        _worker.kill()
        _worker.wait()
