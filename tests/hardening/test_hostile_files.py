"""Hostile files through the front doors (the modeler's deploy and validate, the attachment upload): XXE, billion
laughs, a 50 MB BPMN, a zip bomb, scripts reaching for ``os`` or ``__class__``. Each is refused with a clear
message, quickly, reads nothing it should not and stores nothing."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import pytest

from tests.conftest import PROCESSES
from tests.integration.chain import start, upload

BPMN = (PROCESSES / "press_conference.bpmn").read_text(encoding="utf-8")
SECRET = "机密：不应出现在任何回答中"
BILLION_LAUGHS = "".join(
    [' <!ENTITY lol "lol">\n'] + [f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n'.replace("&lol0;", "&lol;")
                                  for i in range(1, 10)])


def with_doctype(xml: str, declarations: str, reference: str) -> str:
    head, rest = xml.split("?>", 1)
    return f"{head}?>\n<!DOCTYPE definitions [\n{declarations}]>" + rest.replace(
        "<bpmn:documentation>", f"<bpmn:documentation>{reference}", 1)


def deploy(web: Any, xml: str, path: str = "/models/press_conference/deploy") -> tuple[Any, float]:
    owner = web("owner")
    token = owner.csrf_from(owner.get("/models/").text)
    began = time.monotonic()
    response = owner.client.post(path, data={"xml": xml, "note": "恶意文件测试", "csrf_token": token})
    return response, time.monotonic() - began


def versions(app: Any) -> int:
    from sqlalchemy import func, select

    from engine.models import ProcessVersion
    from webapp.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(ProcessVersion))
        db.session.remove()
    return int(count or 0)


@pytest.fixture
def secret_file(tmp_path: Any) -> Any:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def test_an_xxe_model_posted_to_deploy_is_refused_and_the_local_file_is_never_read(app, web, secret_file):
    before = versions(app)
    xxe = with_doctype(BPMN, f' <!ENTITY xxe SYSTEM "file://{secret_file}">\n', "&xxe;")

    response, seconds = deploy(web, xxe)

    assert response.status_code == 422
    assert "DOCTYPE" in response.text and SECRET not in response.text
    assert seconds < 5 and versions(app) == before


def test_a_billion_laughs_model_is_refused_by_validation_without_expanding(app, web):
    response, seconds = deploy(web, with_doctype(BPMN, BILLION_LAUGHS, "&lol9;"), "/models/press_conference/validate")

    assert response.status_code in (200, 422)
    assert "DOCTYPE" in response.text and "lollollol" not in response.text
    assert seconds < 5


def test_a_50_mb_model_is_refused_before_it_is_read(app, web):
    before = versions(app)
    owner = web("owner")
    token = owner.csrf_from(owner.get("/models/").text)
    huge = BPMN.replace("<bpmn:documentation>", "<bpmn:documentation>" + "发" * (50 * 1024 * 1024 // 3), 1)
    body = f"csrf_token={token}&note=x&xml=".encode() + huge.encode("utf-8")

    began = time.monotonic()
    response = owner.client.post("/models/press_conference/deploy", data=body,
                                 content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "超过大小限制" in response.text
    assert time.monotonic() - began < 5 and versions(app) == before


@pytest.mark.parametrize(("script", "said"), [
    ("import os\nos.system('touch /tmp/pwned')", "不允许"),
    ("leak = ().__class__.__bases__[0].__subclasses__()", "下划线"),
    ("leak = '{0.__class__}'.format(unit)", "format"),
])
def test_a_model_whose_script_reaches_for_the_interpreter_is_refused_and_never_run(app, web, script, said):
    before = versions(app)
    tampered = BPMN.replace("</bpmn:userTask>", f"</bpmn:userTask>\n<bpmn:scriptTask id=\"evil\"><bpmn:script>"
                            f"{script}</bpmn:script></bpmn:scriptTask>", 1)

    response, _seconds = deploy(web, tampered)

    assert response.status_code == 422
    assert said in response.text
    assert versions(app) == before


def zip_bomb(unpacked_mb: int) -> bytes:
    """A .docx-looking zip whose one member unpacks to ``unpacked_mb`` MB of zeros (about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_posing_as_a_word_file_is_refused_without_unpacking_it(app, login):
    clerk = login("yz_clerk")
    instance_id = start(login)
    bomb = zip_bomb(300)
    assert len(bomb) < 2 * 1024 * 1024

    began = time.monotonic()
    response = upload(clerk, instance_id, "other", "发布方案.docx", bomb)

    assert response.status_code == 422
    assert "压缩炸弹" in response.get_json()["error"]["fields"]["file"][0]
    assert time.monotonic() - began < 5
    assert [a["kind"] for a in clerk.get(f"/instances/{instance_id}/attachments").get_json()] == [
        "work_plan", "release_text"]


def test_a_damaged_word_file_is_refused_and_a_real_one_is_kept(app, login):
    clerk = login("yz_clerk")
    instance_id = start(login)
    real = io.BytesIO()
    with zipfile.ZipFile(real, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>发布会方案</w:document>")

    damaged = upload(clerk, instance_id, "other", "方案.docx", b"PK\x03\x04" + b"\xff" * 200)
    kept = upload(clerk, instance_id, "other", "方案.docx", real.getvalue())

    assert damaged.status_code == 422 and "已损坏" in damaged.get_json()["error"]["fields"]["file"][0]
    assert kept.status_code == 201
