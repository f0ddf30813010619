"""Spokesperson appointment and filing (Art. 8): every path, the enforced counts, ending a filing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.models import Spokesperson, Unit, User
from engine.org import spokespersons
from tests.integration.chain import upload
from webapp.extensions import db

FULL = "本单位在任新闻发言人已达 2 名上限"
APPROVE = {"decision": "approve", "comment": ""}
FILE = {"decision": "file", "comment": ""}


def proposal(name: str = "陈静", username: str = "") -> dict[str, str]:
    return {"name": name, "position": "区政府办公室副主任", "contact": "023-63000000", "username": username}


def propose(login: Any, name: str = "陈静", username: str = "", clerk: str = "yz_clerk") -> int:
    """The unit's clerk proposes a spokesperson with the appointment document."""
    user = login(clerk)
    response = user.post("/instances", json={"process": "spokesperson_appointment"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    assert upload(user, instance_id, "appointment_document", "任命文件.pdf").status_code == 201
    user.complete(instance_id, "spokesperson_proposal", proposal(name, username))
    return instance_id


def filed(login: Any, name: str, username: str = "") -> int:
    instance_id = propose(login, name, username)
    login("yz_leader").complete(instance_id, "spokesperson_approval", APPROVE)
    login("office_reviewer").complete(instance_id, "spokesperson_filing", FILE)
    return instance_id


def roster_names(app: Any) -> list[str]:
    with app.app_context():
        return [s.name for s in db.session.scalars(select(Spokesperson).where(Spokesperson.ended_at.is_(None)))]


def test_a_filed_spokesperson_joins_the_roster_and_gets_the_spokesperson_role(app, login):
    instance_id = filed(login, "陈静", username="yz_clerk")
    assert login("yz_clerk").instance(instance_id)["status"] == "completed"
    assert roster_names(app) == ["陈静"]
    assert {"role": "unit_spokesperson", "unit": "yuzhong"} in login("yz_clerk").get("/me").get_json()["grants"]


def test_a_proposal_without_the_appointment_document_is_refused(login):
    clerk = login("yz_clerk")
    instance_id = clerk.post("/instances", json={"process": "spokesperson_appointment"}).get_json()["id"]
    body = clerk.complete(instance_id, "spokesperson_proposal", proposal(), status=422)
    assert body["error"]["fields"]["attachments"] == ["报备前须上传任命文件"]


def test_a_proposal_naming_an_unknown_user_is_refused(login):
    clerk = login("yz_clerk")
    instance_id = clerk.post("/instances", json={"process": "spokesperson_appointment"}).get_json()["id"]
    assert upload(clerk, instance_id, "appointment_document").status_code == 201
    body = clerk.complete(instance_id, "spokesperson_proposal", proposal(username="nobody_here"), status=422)
    assert "nobody_here" in body["error"]["fields"]["username"][0]


def test_the_unit_leader_can_return_the_proposal_to_the_clerk(login):
    instance_id = propose(login)
    login("yz_leader").complete(instance_id, "spokesperson_approval", {"decision": "return", "comment": "换人"})
    assert [t["bpmn_id"] for t in login("yz_clerk").tasks() if t["instance_id"] == instance_id] == [
        "spokesperson_proposal"]


def test_the_unit_leader_can_refuse_the_appointment(app, login):
    instance_id = propose(login)
    login("yz_leader").complete(instance_id, "spokesperson_approval", {"decision": "reject", "comment": "不同意"})
    detail = login("yz_clerk").instance(instance_id)
    assert (detail["status"], detail["outcome"]) == ("completed", "rejected")
    assert roster_names(app) == []


def test_the_office_can_return_the_filing_and_nobody_joins_the_roster(app, login):
    instance_id = propose(login)
    login("yz_leader").complete(instance_id, "spokesperson_approval", APPROVE)
    login("office_reviewer").complete(instance_id, "spokesperson_filing", {"decision": "return", "comment": "材料不全"})
    assert roster_names(app) == []
    assert [t["bpmn_id"] for t in login("yz_clerk").tasks() if t["instance_id"] == instance_id] == [
        "spokesperson_proposal"]


def test_a_third_spokesperson_for_one_district_is_refused_when_proposed(login):
    filed(login, "陈静")
    filed(login, "张伟")
    clerk = login("yz_clerk")
    instance_id = clerk.post("/instances", json={"process": "spokesperson_appointment"}).get_json()["id"]
    assert upload(clerk, instance_id, "appointment_document").status_code == 201
    body = clerk.complete(instance_id, "spokesperson_proposal", proposal("第三人"), status=422)
    assert FULL in body["error"]["fields"]["name"][0]


def test_a_third_spokesperson_is_refused_again_at_filing_when_two_proposals_raced(app, login):
    waiting = [propose(login, "乙"), propose(login, "丙")]
    filed(login, "甲")
    for instance_id in waiting:
        login("yz_leader").complete(instance_id, "spokesperson_approval", APPROVE)
    login("office_reviewer").complete(waiting[0], "spokesperson_filing", FILE)
    body = login("office_reviewer").complete(waiting[1], "spokesperson_filing", FILE, status=422)
    assert FULL in body["error"]["message"]
    assert sorted(roster_names(app)) == ["乙", "甲"]


def test_another_district_still_has_its_own_places(app, login):
    filed(login, "陈静")
    filed(login, "张伟")
    instance_id = propose(login, "吴芳", clerk="jb_clerk")
    login("jb_leader").complete(instance_id, "spokesperson_approval", APPROVE)
    login("office_reviewer").complete(instance_id, "spokesperson_filing", FILE)
    assert "吴芳" in roster_names(app)


def test_the_municipal_government_may_file_three_and_a_district_two(app):
    with app.app_context():
        units = {u.code: u for u in db.session.scalars(select(Unit))}
        assert (spokespersons.limit_for(units["office"]), spokespersons.limit_for(units["yuzhong"])) == (3, 2)


def test_ending_a_filing_frees_the_place_and_takes_the_role_back(app, login):
    filed(login, "陈静", username="yz_clerk")
    filed(login, "张伟")
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office_reviewer"))
        entry = db.session.scalar(select(Spokesperson).where(Spokesperson.name == "陈静"))
        spokespersons.end_filing(db.session, office, entry.id, "工作调动")
    assert roster_names(app) == ["张伟"]
    assert {"role": "unit_spokesperson", "unit": "yuzhong"} not in login("yz_clerk").get("/me").get_json()["grants"]
    filed(login, "第三人")
    assert sorted(roster_names(app)) == ["张伟", "第三人"]


def test_only_the_office_may_end_a_filing_and_a_reason_is_required(app, login):
    filed(login, "陈静")
    with app.app_context():
        entry_id = db.session.scalar(select(Spokesperson.id))
        clerk = db.session.scalar(select(User).where(User.username == "yz_clerk"))
        office = db.session.scalar(select(User).where(User.username == "office_reviewer"))
        with pytest.raises(Exception, match="只有市政府新闻办审核人"):
            spokespersons.end_filing(db.session, clerk, entry_id, "调动")
        with pytest.raises(InvalidInput):
            spokespersons.end_filing(db.session, office, entry_id, "  ")


def test_two_parallel_filings_for_the_last_place_file_only_one(app, login):
    filed(login, "甲")
    waiting = [propose(login, "乙"), propose(login, "丙")]
    for instance_id in waiting:
        login("yz_leader").complete(instance_id, "spokesperson_approval", APPROVE)
    tasks = {i: login("office_reviewer").task_at(i, "spokesperson_filing")["id"] for i in waiting}
    clients = {i: app.test_client() for i in waiting}
    headers = login("office_reviewer").headers
    barrier, codes = threading.Barrier(2), {}

    def file_it(instance_id: int) -> None:
        barrier.wait()
        response = clients[instance_id].post(f"/api/v1/tasks/{tasks[instance_id]}/complete", headers=headers,
                                             json={"data": FILE})
        codes[instance_id] = response.status_code

    threads = [threading.Thread(target=file_it, args=(i,)) for i in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes.values())[0] == 200 and sorted(codes.values())[1] in (409, 422)
    assert len(roster_names(app)) == 2
