"""The spokesperson list: signed-in page and CSV, the public page with only name, unit, title and year, ending."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Spokesperson
from tests.integration.test_spokesperson_filing import filed
from webapp.extensions import db


def test_the_signed_in_list_and_csv_show_the_filed_spokesperson_with_contact(login, web):
    filed(login, "陈静")
    page = web("yz_clerk").get("/spokespersons")
    assert page.status_code == 200 and "陈静" in page.text and "023-63000000" in page.text
    download = web("yz_clerk").get("/spokespersons.csv?year=2026")
    assert download.mimetype == "text/csv"
    assert "渝中区人民政府,陈静,区政府办公室副主任,023-63000000,2026-03-02" in download.get_data(as_text=True)


def test_the_list_and_csv_need_a_sign_in(client):
    assert client.get("/spokespersons").status_code == 302
    assert client.get("/spokespersons.csv").status_code == 302


def test_anyone_sees_the_published_list_without_contacts(login, client):
    filed(login, "陈静")
    page = client.get("/public/spokespersons?year=2026")
    assert page.status_code == 200 and "陈静" in page.text and "区政府办公室副主任" in page.text
    assert "023-63000000" not in page.text


def test_a_year_outside_the_measures_is_not_found(client):
    assert client.get("/public/spokespersons?year=1999").status_code == 404
    assert client.get("/public/spokespersons?year=abc").status_code == 404


def test_the_office_ends_a_filing_from_the_list_and_others_may_not(app, login, web):
    filed(login, "陈静")
    with app.app_context():
        entry_id = db.session.scalar(select(Spokesperson.id))
    refused = web("yz_clerk").post_form(f"/spokespersons/{entry_id}/end", {"reason": "调动"}, page="/spokespersons")
    assert refused.status_code == 403
    done = web("office_reviewer").post_form(f"/spokespersons/{entry_id}/end", {"reason": "工作调动"},
                                            page="/spokespersons", follow_redirects=True)
    assert "已终止 陈静 的新闻发言人备案" in done.text
    with app.app_context():
        assert db.session.scalar(select(Spokesperson.end_reason)) == "工作调动"


def test_the_application_timeline_says_the_spokesperson_was_put_on_the_list(login, web):
    instance_id = filed(login, "陈静")
    assert "列入新闻发言人名单" in web("yz_clerk").get(f"/applications/{instance_id}").text


def test_every_filing_step_opens_as_a_form_page(app, login):
    from tests.conftest import WebUser
    from tests.integration.test_spokesperson_filing import APPROVE, FILE, propose

    instance_id = propose(login, "陈静")
    for username, bpmn_id, data in (("yz_leader", "spokesperson_approval", APPROVE),
                                    ("office_reviewer", "spokesperson_filing", FILE)):
        task = login(username).task_at(instance_id, bpmn_id)
        assert WebUser(app, username).get(f"/tasks/{task['id']}").status_code == 200, bpmn_id
        login(username).complete(instance_id, bpmn_id, data)
    clerk = login("yz_clerk")
    started = clerk.post("/instances", json={"process": "spokesperson_appointment"}).get_json()["id"]
    task = clerk.task_at(started, "spokesperson_proposal")
    assert WebUser(app, "yz_clerk").get(f"/tasks/{task['id']}").status_code == 200
    # The appointment document is uploaded on the application page, as the other materials are.
    assert "任命文件" in WebUser(app, "yz_clerk").get(f"/applications/{started}").text
