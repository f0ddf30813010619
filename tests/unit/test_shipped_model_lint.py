"""The shipped process passes bpmnlint's recommended rules, so a process owner opening it in the editor starts from
a clean slate (no warnings of ours to tell apart from theirs)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import PROCESSES, ROOT

BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"


@pytest.mark.skipif(not BPMNLINT.exists() or shutil.which("node") is None,
                    reason="bpmnlint is installed by `make test` (npm ci); run that first")
def test_press_conference_has_no_bpmnlint_errors_or_warnings(tmp_path):
    (tmp_path / ".bpmnlintrc").write_text(json.dumps({"extends": "bpmnlint:recommended"}), encoding="utf-8")

    linted = subprocess.run([str(BPMNLINT), str(PROCESSES / "press_conference.bpmn")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)

    assert (linted.returncode, linted.stdout.strip()) == (0, ""), linted.stdout + linted.stderr
