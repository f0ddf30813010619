"""Hostile model files are refused quickly, with a clear message, and without reading what they point at.

Each attack goes through validation (what the editor calls), the runtime parser (DMN too) and ``pressflow deploy``.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from lxml import etree

from engine.errors import ModelError
from engine.modeling.validation import validate_model
from engine.modeling.xmlsafe import MAX_MODEL_BYTES, parse_model_xml, safe_parser
from engine.workflow.runtime import ProcessRuntime
from tests.conftest import PROCESSES

BPMN = (PROCESSES / "press_conference.bpmn").read_text(encoding="utf-8")
DMN = (PROCESSES / "host_speaker.dmn").read_text(encoding="utf-8")
SECRET = "PRESSFLOW-SECRET-7f3a9c"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
LAUGHS = "".join(
    f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
)
BILLION_LAUGHS = f'<!DOCTYPE definitions [<!ENTITY lol0 "lol">{LAUGHS}]>'


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def with_doctype(model: str, doctype: str, entity_use: str = "") -> str:
    """Put a DOCTYPE after the XML declaration and an entity reference into the first name attribute's text."""
    body = model.removeprefix(DECLARATION)
    if entity_use:
        body = body.replace("<bpmn:documentation>", f"<bpmn:documentation>{entity_use}", 1)
        decision = '<decision id="host_speaker" name="发布人主持人资格">'
        body = body.replace(decision, f"{decision}<description>{entity_use}</description>", 1)
    return DECLARATION + doctype + "\n" + body


def xxe(model: str, secret_file: Path) -> str:
    return with_doctype(model, f'<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file://{secret_file}">]>', "&xxe;")


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def refusal_of(action: Callable[[], Any]) -> tuple[str, float]:
    """Run an action that must raise ModelError; return everything it said and how long it took."""
    started = time.perf_counter()
    with pytest.raises(ModelError) as raised:
        action()
    said = raised.value.message + " ".join(str(p) for p in raised.value.problems)
    return said, time.perf_counter() - started


def said_by_validation(model: str, dmns: list[str]) -> tuple[str, float]:
    problems, seconds = timed(lambda: validate_model(model, dmns))
    assert problems, "a hostile file must not validate"
    return " ".join(p["message"] for p in problems), seconds


# --- XXE ------------------------------------------------------------------------------------------------------


def test_an_xxe_bpmn_file_is_refused_without_reading_the_local_file(secret_file):
    said, seconds = said_by_validation(xxe(BPMN, secret_file), [DMN])

    assert "不允许包含 DOCTYPE 或实体声明" in said
    assert SECRET not in said and seconds < 2


def test_an_xxe_decision_file_is_refused_by_the_runtime_parser(secret_file):
    said, seconds = refusal_of(lambda: ProcessRuntime.parse(BPMN, [xxe(DMN, secret_file)]))

    assert "DMN" in said and "DOCTYPE" in said
    assert SECRET not in said and seconds < 2


def test_an_external_dtd_pointing_at_a_local_file_is_refused(secret_file):
    model = with_doctype(BPMN, f'<!DOCTYPE definitions SYSTEM "file://{secret_file}">')

    said, seconds = said_by_validation(model, [DMN])

    assert "DOCTYPE" in said and SECRET not in said and seconds < 2


def test_an_xxe_file_in_utf16_passes_the_byte_check_but_is_still_refused(secret_file):
    raw = xxe(BPMN, secret_file).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    said, seconds = refusal_of(lambda: parse_model_xml(raw, "BPMN"))

    assert "DOCTYPE" in said and SECRET not in said and seconds < 2


def test_the_parser_itself_neither_resolves_entities_nor_loads_dtds(secret_file):
    # The second line of defence, should the DOCTYPE check ever be bypassed.
    hostile = f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret_file}">]><d>&xxe;</d>'

    parsed = etree.fromstring(hostile.encode(), safe_parser())

    assert SECRET not in etree.tostring(parsed, encoding="unicode")


@pytest.fixture
def listening_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leak "fetched">')

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_a_model_naming_a_remote_dtd_causes_no_network_request(listening_server):
    url, requests = listening_server
    model = with_doctype(BPMN, f'<!DOCTYPE definitions [<!ENTITY % remote SYSTEM "{url}/evil.dtd"> %remote;]>')

    said, seconds = said_by_validation(model, [DMN])
    parsed = etree.fromstring(f'<!DOCTYPE d SYSTEM "{url}/d.dtd"><d/>'.encode(), safe_parser())

    assert "DOCTYPE" in said and seconds < 2 and parsed.tag == "d"
    assert requests == []


# --- entity expansion and size --------------------------------------------------------------------------------


def test_a_billion_laughs_bpmn_file_is_refused_quickly():
    said, seconds = said_by_validation(with_doctype(BPMN, BILLION_LAUGHS, "&lol9;"), [DMN])

    assert "DOCTYPE" in said and "lollol" not in said and seconds < 2


def test_a_billion_laughs_decision_file_is_refused_quickly():
    said, seconds = refusal_of(lambda: ProcessRuntime.parse(BPMN, [with_doctype(DMN, BILLION_LAUGHS, "&lol9;")]))

    assert "DMN" in said and "DOCTYPE" in said and seconds < 2


def test_a_billion_laughs_in_utf16_is_refused_without_expanding():
    raw = with_doctype(BPMN, BILLION_LAUGHS, "&lol9;").replace('encoding="UTF-8"', 'encoding="UTF-16"')

    said, seconds = refusal_of(lambda: parse_model_xml(raw.encode("utf-16"), "BPMN"))

    assert "DOCTYPE" in said and seconds < 2


def oversize(model: str) -> str:
    padding = "填充" * (MAX_MODEL_BYTES // 6 + 1)  # 6 UTF-8 bytes per repeat: just over the limit in padding alone
    return model.replace("<bpmn:documentation>", f"<bpmn:documentation>{padding}", 1)


def test_an_oversize_bpmn_file_is_refused_quickly_with_the_limit_named():
    said, seconds = said_by_validation(oversize(BPMN), [DMN])

    assert "超过 2 MB 上限" in said and seconds < 2


def test_an_oversize_decision_file_is_refused_by_the_runtime_parser():
    big = DMN.replace("<description>", "<description>" + "x" * (MAX_MODEL_BYTES + 1), 1)

    said, seconds = refusal_of(lambda: ProcessRuntime.parse(BPMN, [big]))

    assert "DMN" in said and "超过 2 MB 上限" in said and seconds < 2


# --- through pressflow deploy ---------------------------------------------------------------------------------


def deploy_cli(app: Any, *paths: Path) -> tuple[int, str, float]:
    from webapp.cli import main

    started = time.perf_counter()
    result = CliRunner().invoke(main, ["deploy", *map(str, paths)], obj=ScriptInfo(create_app=lambda: app))
    return result.exit_code, result.output + str(result.exception or ""), time.perf_counter() - started


def versions(app: Any) -> list[int]:
    from sqlalchemy import select

    from engine.models import ProcessVersion
    from webapp.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(ProcessVersion.version)
                                       .where(ProcessVersion.process_key == "press_conference")))


def test_deploy_refuses_an_xxe_file_and_prints_no_secret(app, tmp_path, secret_file):
    hostile = tmp_path / "press_conference.bpmn"
    hostile.write_text(xxe(BPMN, secret_file), encoding="utf-8")

    code, output, seconds = deploy_cli(app, hostile, PROCESSES / "host_speaker.dmn")

    assert code == 1 and "不允许包含 DOCTYPE 或实体声明" in output
    assert SECRET not in output and seconds < 2
    assert versions(app) == [1]


def test_deploy_refuses_a_billion_laughs_decision_file(app, tmp_path):
    hostile = tmp_path / "host_speaker.dmn"
    hostile.write_text(with_doctype(DMN, BILLION_LAUGHS, "&lol9;"), encoding="utf-8")

    code, output, seconds = deploy_cli(app, PROCESSES / "press_conference.bpmn", hostile)

    assert code == 1 and "DOCTYPE" in output and seconds < 2
    assert versions(app) == [1]


def test_deploy_refuses_an_oversize_file_without_reading_it(app, tmp_path):
    huge = tmp_path / "press_conference.bpmn"
    with huge.open("wb") as sparse:
        sparse.truncate(4 * 1024**3)  # 4 GB that nobody could read in two seconds

    code, output, seconds = deploy_cli(app, huge, PROCESSES / "host_speaker.dmn")

    assert code == 1 and "超过 2 MB 上限" in output and seconds < 2
    assert versions(app) == [1]


def test_deploy_refuses_a_utf16_file_before_parsing_it(app, tmp_path, secret_file):
    hostile = tmp_path / "press_conference.bpmn"
    hostile.write_bytes(xxe(BPMN, secret_file).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))

    code, output, seconds = deploy_cli(app, hostile, PROCESSES / "host_speaker.dmn")

    assert code == 1 and "不是 UTF-8 编码" in output
    assert SECRET not in output and seconds < 2
