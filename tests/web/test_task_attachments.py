"""Attachments inside the task form: upload, replace and preview from the task page, by whoever may act on it."""

from __future__ import annotations

import html
import io
import re
import zipfile

from tests.integration import chain

PDF = chain.PDF
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _docx() -> bytes:
    """A small but real Word file: the upload check opens the zip (a damaged one is refused)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as docx:
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        docx.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buffer.getvalue()


DOCX = _docx()


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _attachments(page: str) -> str:
    start = page.index('id="attachments"')
    return _text(page[start:page.index("</section>", start)])


def _draft(login) -> tuple[int, str]:
    """A new application with nothing attached yet, and the id of its 选题申报 task."""
    response = login("yz_clerk").post("/instances", json={"process": "press_conference"})
    instance_id = response.get_json()["id"]
    return instance_id, login("yz_clerk").task_at(instance_id, "topic_application")["id"]


def _upload(user, task_id: str, kind: str, name: str, content: bytes, page: str | None = None, **fields):
    data = {"attachment_kind": kind, "attachment_file": (io.BytesIO(content), name), **fields}
    return user.post_form(f"/tasks/{task_id}/attachments", data, page=page or f"/tasks/{task_id}",
                          content_type="multipart/form-data")


def _stored(login, instance_id: int) -> list[dict]:
    return login("supervisor").get(f"/instances/{instance_id}/attachments").get_json()


def test_the_topic_form_lists_the_required_documents_still_missing_until_both_are_uploaded(web, login):
    instance_id, task_id = _draft(login)
    clerk = web("yz_clerk")

    before = _attachments(clerk.get(f"/tasks/{task_id}").text)
    assert "本环节须上传：工作方案、发布文稿" in before and "尚缺：工作方案、发布文稿" in before

    response = _upload(clerk, task_id, "work_plan", "工作方案.pdf", PDF, title="半途填写的标题")
    assert response.status_code == 200
    assert "已上传：工作方案.pdf（第 1 版）" in _attachments(response.text)
    assert "尚缺：发布文稿" in _attachments(response.text)
    assert 'value="半途填写的标题"' in response.text  # what the clerk typed so far is kept

    done = _upload(clerk, task_id, "release_text", "发布文稿.pdf", PDF)
    assert "必需附件已齐全" in _attachments(done.text) and "尚缺" not in _attachments(done.text)
    assert [a["kind"] for a in _stored(login, instance_id)] == ["work_plan", "release_text"]
    login("yz_clerk").complete(instance_id, "topic_application", chain.application())


def test_replacing_a_document_adds_a_version_marks_it_current_and_keeps_the_old_one(web, login):
    instance_id, task_id = _draft(login)
    clerk = web("yz_clerk")
    _upload(clerk, task_id, "work_plan", "工作方案.pdf", PDF)

    response = clerk.post_form(f"/tasks/{task_id}/attachments", {
        "attachment_replaces": "work_plan", "attachment_replace:work_plan": (io.BytesIO(PDF + b"%v2"), "方案修订.pdf"),
    }, page=f"/tasks/{task_id}", content_type="multipart/form-data")

    assert response.status_code == 200
    section = _attachments(response.text)
    assert "方案修订.pdf 第 2 版 当前版本" in section and "工作方案.pdf 第 1 版" in section
    assert "工作方案.pdf 第 1 版 当前版本" not in section
    stored = _stored(login, instance_id)
    assert [(a["filename"], a["version"], a["kind"]) for a in stored] == [
        ("工作方案.pdf", 1, "work_plan"), ("方案修订.pdf", 2, "work_plan")]


def test_replacing_a_document_the_application_does_not_have_is_refused(web, login):
    instance_id, task_id = _draft(login)

    response = web("yz_clerk").post_form(f"/tasks/{task_id}/attachments", {
        "attachment_replaces": "other:不存在.pdf", "attachment_replace:other:不存在.pdf": (io.BytesIO(PDF), "a.pdf"),
    }, page=f"/tasks/{task_id}", content_type="multipart/form-data")

    assert response.status_code == 422 and "要替换的附件不存在" in _attachments(response.text)
    assert _stored(login, instance_id) == []


def test_a_bad_file_is_explained_next_to_the_attachments_and_nothing_is_stored(web, login):
    instance_id, task_id = _draft(login)
    clerk = web("yz_clerk")

    wrong_type = _upload(clerk, task_id, "work_plan", "方案.exe", b"MZ\x90\x00")
    fake_pdf = _upload(clerk, task_id, "work_plan", "方案.pdf", b"<html>not a pdf</html>")
    nothing = clerk.post_form(f"/tasks/{task_id}/attachments", {"attachment_kind": "work_plan"},
                              page=f"/tasks/{task_id}", content_type="multipart/form-data")

    assert wrong_type.status_code == 422 and "只接受 PDF" in _attachments(wrong_type.text)
    assert fake_pdf.status_code == 422 and "文件内容与扩展名 .pdf 不符" in _attachments(fake_pdf.text)
    assert nothing.status_code == 422 and "请先选择要上传的文件" in _attachments(nothing.text)
    assert _stored(login, instance_id) == []


def test_whoever_may_act_on_the_task_uploads_others_only_view(web, login):
    instance_id = chain.apply(login)
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]

    leader = _upload(web("yz_leader"), task_id, "other", "会议议程.pdf", PDF)
    assert leader.status_code == 200 and "会议议程.pdf" in _attachments(leader.text)

    # Same unit, another role: sees the task and its attachments, may not add to them.
    spokes = web("yz_spokes")
    page = spokes.get(f"/tasks/{task_id}").text
    assert "会议议程.pdf" in _attachments(page) and 'name="attachment_file"' not in page
    refused = _upload(spokes, task_id, "other", "插入.pdf", PDF)
    assert refused.status_code == 403 and "没有办理此任务的权限" in _attachments(refused.text)
    # Supervisors read everything, upload nothing; another unit does not even see the task.
    assert 'name="attachment_file"' not in web("supervisor").get(f"/tasks/{task_id}").text
    assert _upload(web("supervisor"), task_id, "other", "督办.pdf", PDF).status_code == 403
    assert _upload(web("jb_leader"), task_id, "other", "外单位.pdf", PDF, page="/tasks").status_code == 404
    assert [a["filename"] for a in _stored(login, instance_id)] == ["工作方案.pdf", "发布文稿.pdf", "会议议程.pdf"]


def test_a_task_already_done_takes_no_more_uploads(web, login):
    instance_id = chain.start(login)
    task_id = login("yz_clerk").task_at(instance_id, "topic_application")["id"]
    login("yz_clerk").complete(instance_id, "topic_application", chain.application())

    response = _upload(web("yz_clerk"), task_id, "other", "补充.pdf", PDF)

    assert response.status_code == 409 and "已办理" in _attachments(response.text)
    assert len(_stored(login, instance_id)) == 2


def test_pdfs_and_pictures_preview_inline_other_files_download(web, login):
    instance_id, task_id = _draft(login)
    clerk = web("yz_clerk")
    _upload(clerk, task_id, "work_plan", "工作方案.pdf", PDF)
    _upload(clerk, task_id, "other", "现场图.png", PNG)
    _upload(clerk, task_id, "release_text", "发布文稿.docx", DOCX)
    _upload(clerk, task_id, "other", "说明.txt", "纯文本说明".encode())
    ids = {a["filename"]: a["id"] for a in _stored(login, instance_id)}
    page = clerk.get(f"/tasks/{task_id}").text

    def url(name: str) -> str:
        return f"/applications/{instance_id}/attachments/{ids[name]}/preview"

    def preview(name: str):
        return clerk.get(url(name))

    assert f'<iframe class="preview-pdf" src="{url("工作方案.pdf")}"' in page
    assert f'<img class="preview-image" src="{url("现场图.png")}"' in page
    assert url("发布文稿.docx") not in page and "此类文件请下载后查看" in page
    for name, mimetype in (("工作方案.pdf", "application/pdf"), ("现场图.png", "image/png")):
        shown = preview(name)
        assert shown.status_code == 200 and shown.mimetype == mimetype
        assert shown.headers["Content-Disposition"].startswith("inline")
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
        shown.close()
    for name in ("发布文稿.docx", "说明.txt"):
        downloaded = preview(name)
        assert downloaded.headers["Content-Disposition"].startswith("attachment")
        assert downloaded.headers["X-Content-Type-Options"] == "nosniff"
        downloaded.close()
    assert web("jb_clerk").get(url("工作方案.pdf")).status_code == 404
