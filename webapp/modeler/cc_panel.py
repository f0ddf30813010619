"""The texts of the 抄送 entries (ccRoles, ccUsers) in the properties panel's PressFlow group."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _


def cc_panel_config() -> dict[str, Any]:
    """Labels, help and error texts of the 抄送 entries, in the page's language (``config.pressflow.cc``)."""
    return {
        "ccRoles": {"label": _("办理后抄送角色（ccRoles）"),
                    "help": _("空格分隔的“角色@单位”：@applying 为申报单位，@office 为新闻办，或填单位代码；"
                              "只写角色时按该角色所在单位。")},
        "ccUsers": {"label": _("办理后抄送人员（ccUsers）"), "help": _("空格分隔的用户名。")},
        "rolesInvalid": _("“%s” 不是“已知角色@单位”的写法。"),
        "usersInvalid": _("“%s” 不是有效的用户名。"),
    }
