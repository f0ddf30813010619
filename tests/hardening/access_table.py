"""The authorization matrix: for every route of the application, who gets through.

One entry per endpoint name (``app.url_map``): ``Rule(method path, allowed)``. ``allowed`` names the users who pass
the gate; every other user in the matrix, and anyone not signed in, must be turned away (401/403/404 or sent to the
sign-in page). A route without an entry fails ``test_every_route_has_an_entry_in_the_table``, so adding an endpoint
means adding one line here. Placeholders in the path come from the world the test builds (``WORLD_KEYS``).

The users are the demo organisation: the application under test belongs to 渝中区 (``yz_*``); ``jb_*`` and
``wjw_*`` are other units; ``office_*``, ``onsite`` and ``monitor`` work for the Information Office.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CASE_UNIT = frozenset({"yz_clerk", "yz_leader", "yz_spokes", "yz_secrecy"})
OTHER_UNITS = frozenset({"jb_clerk", "jb_leader", "jb_spokes", "jb_secrecy", "wjw_clerk", "wjw_leader", "wjw_secrecy"})
OFFICE = frozenset({"office_reviewer", "office_spokes", "office_assistant", "onsite", "monitor"})
OVERSEERS = frozenset({"supervisor", "admin"})
MODELERS = frozenset({"owner", "admin"})
EVERYONE = CASE_UNIT | OTHER_UNITS | OFFICE | OVERSEERS | MODELERS
#: Who sees the application under test (its unit, the Office, supervisors): its page, history, attachments.
CASE_READERS = CASE_UNIT | OFFICE | OVERSEERS
#: The clerks (经办人, role applicant) of every unit: only they start applications.
APPLICANTS = frozenset({"yz_clerk", "jb_clerk", "wjw_clerk"})
ANONYMOUS = "anonymous"
PUBLIC = frozenset({ANONYMOUS}) | EVERYONE

#: The smaller matrix ``make test`` runs: one user per role and unit relation; ``make stress`` runs every demo user.
QUICK_USERS = ("yz_clerk", "yz_leader", "jb_clerk", "office_reviewer", "supervisor", "owner")
FULL_USERS = tuple(sorted(EVERYONE))


@dataclass(frozen=True)
class Rule:
    """One route: ``"METHOD /path/{placeholder}"``, who passes, and the body a valid request sends."""

    route: str
    allowed: frozenset[str]
    body: dict[str, Any] | None = field(default=None)
    #: Its answer for those let through is the sign-in page (signing out).
    signs_out: bool = False

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]


APPROVE = {"data": {"decision": "approve", "comment": "同意"}}
DELEGATE = {"delegate": "yz_spokes", "starts_on": "2026-03-02", "ends_on": "2026-03-06", "reason": "出差"}
XML = {"xml": "<definitions/>"}
BATCH = {"step": "leader_review", "decision": "approve", "comment": "同意"}

API = {
    "api.openapi": Rule("GET /api/v1/openapi.json", PUBLIC),
    "api.issue_token": Rule("POST /api/v1/auth/token", PUBLIC, {"username": "yz_clerk", "password": "pressflow-demo"}),
    "api.me": Rule("GET /api/v1/me", EVERYONE),
    "api.processes": Rule("GET /api/v1/processes", EVERYONE),
    "api.add_workdays": Rule("GET /api/v1/calendar/add-workdays?start=2026-03-02&days=3", EVERYONE),
    "api.list_instances": Rule("GET /api/v1/instances", EVERYONE),
    "api.start_instance": Rule("POST /api/v1/instances", APPLICANTS, {"process": "press_conference"}),
    "api.get_instance": Rule("GET /api/v1/instances/{case}", CASE_READERS),
    "api.instance_history": Rule("GET /api/v1/instances/{case}/history", CASE_READERS),
    "api.list_attachments": Rule("GET /api/v1/instances/{case}/attachments", CASE_READERS),
    "api.download_attachment": Rule("GET /api/v1/instances/{case}/attachments/{attachment}", CASE_READERS),
    "api.upload_attachment": Rule("POST /api/v1/instances/{case}/attachments", CASE_UNIT | OFFICE, {"kind": "other"}),
    "api.list_comments": Rule("GET /api/v1/instances/{case}/comments", CASE_READERS),
    "api.add_comment": Rule("POST /api/v1/instances/{case}/comments", CASE_READERS, {"body": "意见"}),
    "api.urge_instance": Rule("POST /api/v1/instances/{case}/urge", {"yz_clerk"} | OVERSEERS, {"comment": "催"}),
    "api.withdraw_instance": Rule("POST /api/v1/instances/{case}/withdraw", {"yz_clerk"}, {"comment": "撤回"}),
    "api.list_tasks": Rule("GET /api/v1/tasks", EVERYONE),
    "api.get_task": Rule("GET /api/v1/tasks/{task}", CASE_READERS),
    "api.return_targets": Rule("GET /api/v1/tasks/{task}/return-targets", CASE_READERS),
    "api.claim_task": Rule("POST /api/v1/tasks/{task}/claim", {"yz_leader"}),
    "api.release_task": Rule("POST /api/v1/tasks/{task}/release", {"yz_leader"}),
    "api.complete_task": Rule("POST /api/v1/tasks/{task}/complete", {"yz_leader"}, APPROVE),
    "api.return_task": Rule("POST /api/v1/tasks/{task}/return", {"yz_leader"}, {"comment": "请修改"}),
    "api.transfer_task": Rule("POST /api/v1/tasks/{task}/transfer", {"yz_leader"}, {"to": "jb_leader", "reason": "x"}),
    "api.list_notifications": Rule("GET /api/v1/notifications", EVERYONE),
    "api.read_notifications": Rule("POST /api/v1/notifications/read", EVERYONE, {}),
    "api.list_delegations": Rule("GET /api/v1/delegations", EVERYONE),
    "api.create_delegation": Rule("POST /api/v1/delegations", EVERYONE, DELEGATE),
    "api.revoke_delegation": Rule("DELETE /api/v1/delegations/{delegation}", {"yz_leader"}),
    # 加签 / 减签 / 委派: only the step's holder
    "api.sign_groups": Rule("GET /api/v1/tasks/{task}/sign-groups", CASE_READERS),
    "api.add_signers": Rule("POST /api/v1/tasks/{task}/add-signers", {"yz_leader"},
                            {"mode": "before", "rule": "all", "signers": ["yz_spokes"]}),
    "api.remove_signer": Rule("POST /api/v1/tasks/{task}/remove-signer", {"yz_leader"}, {"username": "yz_spokes"}),
    "api.delegate": Rule("POST /api/v1/tasks/{task}/delegate", {"yz_leader"}, {"to": "yz_spokes", "comment": "请代拟"}),
    # 抄送 and the preview: copying from a step is its holder's; reading what one was copied is one's own
    "api.copy_from_task": Rule("POST /api/v1/tasks/{task}/cc", {"yz_leader"}, {"users": ["yz_spokes"], "note": "知悉"}),
    "api.copies_to_me": Rule("GET /api/v1/cc", EVERYONE),
    "api.instance_copies": Rule("GET /api/v1/instances/{case}/cc", CASE_READERS),
    "api.read_copies": Rule("POST /api/v1/instances/{case}/cc/read", CASE_READERS, {}),
    "api.preview_task": Rule("GET /api/v1/tasks/{task}/preview", CASE_READERS),
    # 批量审批 answers everyone, naming each task they may not act on; 常用语 are one's own
    # Those who cannot see any of the chosen tasks are told none was found (404), like any unknown task.
    "api.batch_complete": Rule("POST /api/v1/tasks/batch", CASE_READERS, {"tasks": ["{task}"], **BATCH}),
    "api.list_phrases": Rule("GET /api/v1/phrases", EVERYONE),
    "api.save_phrase": Rule("POST /api/v1/phrases", EVERYONE, {"text": "矩阵常用语"}),
    "api.delete_phrase": Rule("DELETE /api/v1/phrases/{phrase}", {"yz_leader"}),
}

WEB = {
    "static": Rule("GET /static/css/app.css", PUBLIC),
    "site.healthz": Rule("GET /healthz", PUBLIC),
    "site.index": Rule("GET /", PUBLIC),  # the sign-in page for strangers
    # the reporters' interview request form; its POST (also open to all, CSRF, 5/hour per address) has its own tests
    "public.interview": Rule("GET /public/interview", PUBLIC),
    "auth.login": Rule("GET /login", PUBLIC),
    "auth.logout": Rule("POST /logout", PUBLIC, {}, signs_out=True),
    "auth.language": Rule("POST /language", PUBLIC, {"lang": "en"}),
    "tasks.inbox": Rule("GET /tasks", EVERYONE),
    "tasks.done": Rule("GET /tasks/done", EVERYONE),
    "tasks.show": Rule("GET /tasks/{task}", CASE_READERS),
    "tasks.claim": Rule("POST /tasks/{task}/claim", {"yz_leader"}, {}),
    "tasks.release": Rule("POST /tasks/{task}/release", {"yz_leader"}, {}),
    "tasks.complete": Rule("POST /tasks/{task}/complete", {"yz_leader"}, {"decision": "approve", "comment": "同意"}),
    "tasks.return_to": Rule("POST /tasks/{task}/return", {"yz_leader"}, {"comment": "请修改"}),
    "tasks.transfer": Rule("POST /tasks/{task}/transfer", {"yz_leader"}, {"to": "jb_leader", "reason": "x"}),
    "tasks.add_signers": Rule("POST /tasks/{task}/add-signers", {"yz_leader"},
                              {"mode": "before", "rule": "all", "signers": "yz_spokes"}),
    "tasks.remove_signer": Rule("POST /tasks/{task}/remove-signer", {"yz_leader"}, {"username": "yz_spokes"}),
    "tasks.delegate": Rule("POST /tasks/{task}/delegate", {"yz_leader"}, {"to": "yz_spokes", "comment": "请代拟"}),
    "tasks.copy": Rule("POST /tasks/{task}/cc", {"yz_leader"}, {"users": "yz_spokes", "note": "知悉"}),
    "tasks.cc": Rule("GET /tasks/cc", EVERYONE),
    "tasks.comment": Rule("POST /tasks/{task}/comments", CASE_READERS, {"body": "意见"}),
    "tasks.upload": Rule("POST /tasks/{task}/attachments", {"yz_leader"},
                         {"attachment_kind": "other", "file_field": "attachment_file"}),
    "tasks.batch": Rule("GET /tasks/batch?task={task}", EVERYONE),
    "tasks.batch_complete": Rule("POST /tasks/batch", CASE_READERS, {"task": "{task}", **BATCH}),
    "tasks.phrases": Rule("GET /tasks/phrases", EVERYONE),
    "tasks.phrase_add": Rule("POST /tasks/phrases", EVERYONE, {"text": "矩阵常用语"}),
    "tasks.phrase_delete": Rule("POST /tasks/phrases/{web_phrase}/delete", {"yz_leader"}, {}),
    "applications.index": Rule("GET /applications", EVERYONE),
    "applications.mine": Rule("GET /applications/mine", EVERYONE),
    "applications.new": Rule("GET /applications/new", EVERYONE),  # the page says who may apply
    "applications.start": Rule("POST /applications/new", APPLICANTS, {"process": "press_conference"}),
    "applications.show": Rule("GET /applications/{case}", CASE_READERS),
    "applications.attachment": Rule("GET /applications/{case}/attachments/{attachment}", CASE_READERS),
    "applications.upload": Rule("POST /applications/{case}/attachments", CASE_UNIT | OFFICE, {"kind": "other"}),
    "applications.comment": Rule("POST /applications/{case}/comments", CASE_READERS, {"body": "意见"}),
    "applications.urge": Rule("POST /applications/{case}/urge", {"yz_clerk"} | OVERSEERS, {"comment": "催"}),
    "applications.annual_results": Rule("GET /applications/annual-results", EVERYONE),  # rows: one's own units
    "applications.preview": Rule("GET /applications/{case}/attachments/{attachment}/preview", CASE_READERS),
    "applications.sheet": Rule("GET /applications/{case}/sheet", CASE_READERS),
    "applications.sheet_pdf": Rule("GET /applications/{case}/sheet.pdf", CASE_READERS),
    "applications.withdraw": Rule("POST /applications/{case}/withdraw", {"yz_clerk"}, {"comment": "撤回"}),
    "notifications.index": Rule("GET /notifications", EVERYONE),
    "notifications.read": Rule("POST /notifications/{notification}/read", EVERYONE, {}),  # only ever one's own
    "notifications.digest": Rule("POST /notifications/digest", EVERYONE, {"email_digest": "on"}),
    "notifications.read_all": Rule("POST /notifications/read-all", EVERYONE, {}),
    "delegations.index": Rule("GET /delegations", EVERYONE),
    "delegations.create": Rule("POST /delegations", EVERYONE, DELEGATE),
    "delegations.revoke": Rule("POST /delegations/{delegation}/revoke", {"yz_leader"}, {}),
    # The spokesperson roster: the list for the signed-in, the public page for anyone, ending a filing the Office's.
    "spokespersons.index": Rule("GET /spokespersons", EVERYONE),
    "spokespersons.csv": Rule("GET /spokespersons.csv", EVERYONE),
    "spokespersons.public": Rule("GET /public/spokespersons", PUBLIC),
    "spokespersons.end": Rule("POST /spokespersons/{spokesperson}/end", {"office_reviewer"}, {"reason": "调整"}),
    "diagram.bpmn": Rule("GET /diagram/{case}.bpmn", CASE_READERS),
    "diagram.states": Rule("GET /diagram/{case}/states.json", CASE_READERS),
}

SUPERVISE = {
    "supervise.index": Rule("GET /supervise/", OVERSEERS),
    "supervise.instances": Rule("GET /supervise/instances", OVERSEERS),
    "supervise.export": Rule("GET /supervise/instances.csv", OVERSEERS),
    "supervise.charts": Rule("GET /supervise/charts.json", OVERSEERS),
    "supervise.heatmap": Rule("GET /supervise/heatmap", OVERSEERS),
    "supervise.instance": Rule("GET /supervise/instances/{case}", OVERSEERS),
    "supervise.diagram": Rule("GET /supervise/instances/{case}/diagram.json", OVERSEERS),
    "supervise.process_diagram": Rule("GET /supervise/processes/{key}/diagram.bpmn", OVERSEERS),
    "supervise.urge": Rule("POST /supervise/instances/{case}/urge", OVERSEERS, {"reason": "催"}),
    "supervise.suspend": Rule("POST /supervise/instances/{case}/suspend", OVERSEERS, {"reason": "暂停"}),
    "supervise.resume": Rule("POST /supervise/instances/{case}/resume", OVERSEERS, {"reason": "恢复"}),
    "supervise.terminate": Rule("POST /supervise/instances/{case}/terminate", OVERSEERS, {"reason": "终止"}),
    "supervise.retry": Rule("POST /supervise/instances/{case}/retry", OVERSEERS, {"reason": "重试"}),
    "supervise.move_back": Rule("POST /supervise/instances/{case}/move-back", OVERSEERS,
                                {"target": "topic_application", "reason": "退回"}),
    "supervise.reassign": Rule("POST /supervise/instances/{case}/tasks/{task}/reassign", OVERSEERS,
                               {"to": "yz_spokes", "reason": "改派"}),
}

MODELER = {
    "modeler.index": Rule("GET /models/", MODELERS),
    "modeler.new": Rule("GET /models/new", MODELERS),
    "modeler.versions": Rule("GET /models/{key}", MODELERS),
    "modeler.version_xml": Rule("GET /models/{key}/v1.bpmn", MODELERS),
    "modeler.edit": Rule("GET /models/{key}/edit", MODELERS),
    "modeler.draft": Rule("GET /models/{key}/draft", MODELERS),
    "modeler.save_draft": Rule("POST /models/{key}/draft", MODELERS, XML),
    "modeler.discard_draft": Rule("POST /models/{key}/draft/discard", MODELERS, {}),
    "modeler.validate": Rule("POST /models/{key}/validate", MODELERS, XML),
    "modeler.deploy": Rule("POST /models/{key}/deploy", MODELERS, XML),
    "modeler.dry_run": Rule("GET /models/{key}/dry-run", MODELERS),
    "modeler.migrate": Rule("GET /models/{key}/migrate", MODELERS),
    "modeler.migrate_preview": Rule("POST /models/{key}/migrate/preview", MODELERS, {"target": "1"}),
    "modeler.migrate_run": Rule("POST /models/{key}/migrate/run", MODELERS, {"target": "1"}),
    "modeler.edit_decision": Rule("GET /models/decisions/{decision_file}/edit", MODELERS),
    "modeler.decision_xml": Rule("GET /models/decisions/{decision_file}", MODELERS),
    "modeler.decision_draft": Rule("GET /models/decisions/{decision_file}/draft", MODELERS),
    "modeler.save_decision_draft": Rule("POST /models/decisions/{decision_file}/draft", MODELERS, XML),
    "modeler.discard_decision_draft": Rule("POST /models/decisions/{decision_file}/draft/discard", MODELERS, {}),
    "modeler.validate_decision": Rule("POST /models/decisions/{decision_file}/validate", MODELERS, XML),
    "modeler.deploy_decision": Rule("POST /models/decisions/{decision_file}/deploy", MODELERS, XML),
}

TABLE: dict[str, Rule] = {**API, **WEB, **SUPERVISE, **MODELER}
