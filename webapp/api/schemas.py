"""The API contract as marshmallow schemas: request bodies, query strings and responses (OpenAPI comes from here)."""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from engine.models import TASK_ID_PATTERN
from engine.org.units import ROLES, UNIT_SPEC, USERNAME, role_spec_problem, username_problem
from webapp.tasks.inbox_args import SEARCH_MAX, STEP_ID

STATUSES = ("running", "waiting", "completed", "suspended", "terminated", "error")


class _Recipient(validate.Regexp):
    """A recipient's rule, stated as a pattern in OpenAPI and answered with the engine's own words when broken."""

    def __init__(self, pattern: str, explain: Callable[[str], str | None]) -> None:
        super().__init__(pattern)
        self.explain = explain

    def __call__(self, value: str) -> str:  # type: ignore[override]
        problem = self.explain(value)  # the engine's rule, of which the pattern is the OpenAPI spelling
        if problem:
            raise ValidationError(problem)
        return value


#: Someone named as a recipient (转办, 抄送, 加签, 委派): the engine's username rule.
RECIPIENT = _Recipient(f"^{USERNAME.pattern}$", username_problem)
#: A ``role@unit`` recipient: a known role, then optionally a unit.
ROLE_RECIPIENT = _Recipient(f"^(?:{'|'.join(sorted(ROLES))})(?:@{UNIT_SPEC})?$", role_spec_problem)


#: White space as the engine's ``str.strip`` sees it, spelled out: ``\\s`` means other characters in JSON Schema
#: (ECMAScript) than in Python (U+001C–U+001F, U+0085, U+FEFF).
_BLANK = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())


def said(most: int) -> list[validate.Validator]:
    """A text the engine requires (a reason, a comment): 1 to ``most`` characters, not only white space."""
    return [validate.Length(min=1, max=most), validate.Regexp(f"^[{_BLANK}]*[^{_BLANK}]", error="不能只填空白字符")]


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenResponse(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class Grant(Schema):
    role = fields.String()
    unit = fields.String()


class Me(Schema):
    username = fields.String()
    display_name = fields.String()
    grants = fields.List(fields.Nested(Grant))


class ProcessOut(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer()


class StartRequest(StrictSchema):
    process = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "发起单位（可选）"})


class TaskOut(Schema):
    id = fields.String()
    instance_id = fields.Integer()
    instance_title = fields.String()
    name = fields.String()
    bpmn_id = fields.String()
    form = fields.String()
    candidate_roles = fields.List(fields.String())
    unit = fields.String()
    assignee = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    due_provisional = fields.Boolean()
    overdue = fields.Boolean()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    on_behalf_of = fields.String(allow_none=True, metadata={"description": "代办时被代理的用户"})
    returned_by = fields.String(allow_none=True, metadata={"description": "退回/撤回至此步骤的用户"})
    returned_comment = fields.String(allow_none=True, metadata={"description": "退回理由"})
    opened_at = fields.DateTime(allow_none=True)
    sign_group_id = fields.Integer(allow_none=True, metadata={"description": "加签 / 委派：加签人的任务所属的加签"})


class FormFieldOut(Schema):
    name = fields.String()
    type = fields.String()
    label = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.Dict(), allow_none=True)
    help = fields.String(allow_none=True)


class TaskDetailOut(TaskOut):
    form_schema = fields.List(fields.Nested(FormFieldOut))
    data = fields.Dict()


class InstanceOut(Schema):
    id = fields.Integer()
    process = fields.String()
    version = fields.Integer()
    status = fields.String()
    title = fields.String()
    unit = fields.String()
    started_by = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)
    incident = fields.Dict(allow_none=True)
    tasks = fields.List(fields.Nested(TaskOut))
    data = fields.Dict()


class InstancePage(Schema):
    items = fields.List(fields.Nested(InstanceOut))
    total = fields.Integer()
    page = fields.Integer()


class InstanceQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    unit = fields.String(validate=validate.Length(max=40))
    process = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class TaskQuery(StrictSchema):
    """Documents GET /tasks (checked by webapp.tasks.inbox_args, like the inbox page): total in X-Total-Count,
    first/prev/next/last pages in Link."""

    scope = fields.String(validate=validate.OneOf(("mine", "group")),
                          metadata={"description": "mine 已认领, group 待认领"})
    process = fields.String(validate=validate.Regexp(f"^{STEP_ID.pattern}$"),
                            metadata={"description": "流程标识（未部署的标识：空列表）"})
    step = fields.String(validate=validate.Regexp(f"^{STEP_ID.pattern}$"),
                         metadata={"description": "环节标识（bpmn id）"})
    unit = fields.String(validate=validate.Regexp(f"^{UNIT_SPEC}$"), metadata={"description": "申报单位代码"})
    q = fields.String(validate=validate.Length(max=SEARCH_MAX), metadata={"description": "标题包含"})
    overdue = fields.String(validate=validate.OneOf(("0", "1")), metadata={"description": "1 仅看逾期"})
    from_ = fields.Date(data_key="from", metadata={"description": "到达日期（北京时间）起，含当日"})
    to = fields.Date(metadata={"description": "到达日期（北京时间）止，含当日"})
    sort = fields.String(validate=validate.OneOf(("due", "created", "title")))
    order = fields.String(validate=validate.OneOf(("asc", "desc")))
    page = fields.Integer(validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=200), metadata={"description": "默认 100"})


class CompleteRequest(StrictSchema):
    data = fields.Dict(required=True)


class HistoryOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    task = fields.String(allow_none=True)
    bpmn_id = fields.String(allow_none=True)
    comment = fields.String(allow_none=True, metadata={"description": "这一条留痕的文字（按请求语言）"})
    note = fields.String(allow_none=True, metadata={"description": "办理人本人填写的意见或理由"})
    data = fields.Dict(allow_none=True)
    on_behalf_of = fields.String(allow_none=True)


class AttachmentOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()
    version = fields.Integer()
    document = fields.String()


class AttachmentForm(StrictSchema):
    kind = fields.String(required=True)


class AddWorkdaysQuery(StrictSchema):
    start = fields.Date(required=True, format="%Y-%m-%d")
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=366))


class AddWorkdaysOut(Schema):
    date = fields.Date()
    provisional = fields.Boolean()


class ErrorBody(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict()


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody)


class ReturnRequest(StrictSchema):
    comment = fields.String(required=True, validate=said(1000), metadata={"description": "退回理由"})
    target = fields.String(validate=validate.Length(min=1, max=36),
                           metadata={"description": "退回到的步骤（见 return-targets；缺省为申请人）"})


class StepOut(Schema):
    id = fields.String()
    bpmn_id = fields.String()
    name = fields.String()
    completed_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class WithdrawRequest(StrictSchema):
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class TransferRequest(StrictSchema):
    to = fields.String(required=True, validate=RECIPIENT)
    reason = fields.String(required=True, validate=said(1000))


class UrgeRequest(StrictSchema):
    comment = fields.String(load_default="", validate=validate.Length(max=500))


class UrgeOut(Schema):
    reminded_tasks = fields.Integer()


class CommentRequest(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CommentOut(Schema):
    id = fields.Integer()
    author = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String(metadata={"description": "通知全文（按请求语言，使用申请的当前标题）"})
    event = fields.String(allow_none=True, metadata={"description": "通知事件代码，如 new_task、rejected"})
    params = fields.Dict(metadata={"description": "事件参数（环节、人员、期限等）"})
    note = fields.String(metadata={"description": "办理人填写的理由或评论（无则为空）"})
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read = fields.Boolean()


class NotificationPage(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationOut))


class MarkReadRequest(StrictSchema):
    id = fields.Integer(metadata={"description": "缺省时全部标为已读"})


class DelegationRequest(StrictSchema):
    delegate = fields.String(required=True, validate=RECIPIENT)
    starts_on = fields.Date(required=True, format="%Y-%m-%d")
    ends_on = fields.Date(required=True, format="%Y-%m-%d")
    reason = fields.String(required=True, validate=said(500))


class DelegationOut(Schema):
    id = fields.Integer()
    principal = fields.String()
    delegate = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    reason = fields.String()
    revoked = fields.Boolean()


# --- 抄送 and the approval-chain preview (engine.review.carbon_copy, engine.review.preview) -----------------


class CarbonCopyRequest(StrictSchema):
    users = fields.List(fields.String(validate=RECIPIENT), load_default=list,
                        validate=validate.Length(max=50), metadata={"description": "抄送给这些用户名"})
    roles = fields.List(fields.String(validate=ROLE_RECIPIENT), load_default=list,
                        validate=validate.Length(max=20),
                        metadata={"description": "抄送给“角色@单位”的在岗人员：@applying 申报单位，@office 新闻办，"
                                                 "或单位代码；不写单位时按角色所在的单位"})
    note = fields.String(load_default="", validate=validate.Length(max=500), metadata={"description": "说明（可选）"})

    #: Rules across fields that the OpenAPI description states too (marshmallow fields cannot): someone to copy.
    OPENAPI_RULES = {"anyOf": [{"required": ["users"], "properties": {"users": {"minItems": 1}}},
                               {"required": ["roles"], "properties": {"roles": {"minItems": 1}}}]}


class CarbonCopyOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    instance_title = fields.String()
    recipient = fields.String()
    recipient_name = fields.String()
    sender = fields.String()
    task_id = fields.String(allow_none=True)
    task_name = fields.String(allow_none=True)
    source = fields.String(metadata={"description": "model：环节按流程设定抄送；manual：办理人手动抄送"})
    via_role = fields.String(allow_none=True, metadata={"description": "按此“角色@单位”选中"})
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True, metadata={"description": "已阅时间；未阅为 null"})


class CarbonCopyQuery(StrictSchema):
    state = fields.String(validate=validate.OneOf(("unread", "read")), metadata={"description": "未阅 / 已阅"})


class CarbonCopyPage(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(CarbonCopyOut))


class StepAheadOut(Schema):
    bpmn_id = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    unit = fields.String()
    unit_name = fields.String()
    holders = fields.List(fields.String(), metadata={"description": "将办理此环节的在岗人员（用户名）"})
    designated = fields.Boolean(metadata={"description": "办理人是指定的（而非角色内认领）"})
    assumed = fields.Boolean(metadata={"description": "仅当此前尚未作出的审批均为同意时才会到达"})


class ChainPreviewOut(Schema):
    steps = fields.List(fields.Nested(StepAheadOut))
    stopped = fields.String(metadata={"description": "end | max_steps | stalled | error | closed"})
    outcome = fields.String(allow_none=True)
    assumed = fields.Boolean()
    error = fields.String(allow_none=True)


class BatchRequest(StrictSchema):
    tasks = fields.List(fields.String(validate=validate.Regexp(f"^{TASK_ID_PATTERN}$", error="不是有效的任务编号")),
                        required=True,
                        validate=validate.Length(min=1, max=100))
    step = fields.String(required=True, validate=validate.Length(min=1, max=100))
    decision = fields.String(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class BatchItemOut(Schema):
    task = fields.String()
    name = fields.String()
    reason = fields.String()


class BatchOut(Schema):
    completed = fields.List(fields.Nested(BatchItemOut))
    refused = fields.List(fields.Nested(BatchItemOut))


class PhraseRequest(StrictSchema):
    text = fields.String(required=True, validate=said(200))


class PhraseOut(Schema):
    id = fields.Integer(allow_none=True)
    text = fields.String()
    system = fields.Boolean()
