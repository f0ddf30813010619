"""Turn a task form as the browser posts it into the data the form's schema validates, and back for display."""

from __future__ import annotations

import re
from typing import Any

import forms

#: Empty inputs of these types mean "not given" (the schema then says whether that is allowed).
BLANK_IS_NONE = ("date", "time", "integer", "choice")
CHECKED = ("on", "true", "1", "yes")
#: How many empty rows a list field (出席嘉宾) offers beyond the filled ones.
SPARE_ROWS = 2
MAX_ROWS = 30
_ROW_KEY = re.compile(r"(?P<field>[a-z_]+)-(?P<index>\d{1,3})-(?P<item>[a-z_]+)")


def describe(form_key: str, workflow_data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The form's fields for rendering (only the choices the workflow allows); a review's decision is its buttons,
    a unit is chosen from the units table."""
    decision = forms.decision_field(form_key)
    described = [f for f in forms.describe_form(form_key, workflow_data) if f["name"] != decision]
    if any(f["type"] == "unit" for f in described):
        choices = unit_choices()
        for field in described:
            if field["type"] == "unit":
                field.update(type="choice", choices=choices)
    return described


def unit_choices() -> list[dict[str, str]]:
    """The units a ``unit`` field may name, from the units table (the Information Office itself is not one)."""
    from sqlalchemy import select

    from engine.models import Unit
    from webapp.extensions import db

    units = db.session.scalars(select(Unit).where(Unit.kind != "office").order_by(Unit.code)).all()
    return [{"value": unit.code, "label": unit.name} for unit in units]


def decision_choices(form_key: str) -> list[dict[str, Any]]:
    """One button per decision of a review form (empty for other forms), the positive ones marked."""
    name = forms.decision_field(form_key)
    positive = forms.positive_decisions(form_key)
    return [c | {"positive": c["value"] in positive} for f in forms.describe_form(form_key) if f["name"] == name
            for c in f.get("choices") or ()]


def from_post(form_key: str, posted: Any) -> dict[str, Any]:
    """Build the submission from posted fields: checkboxes become booleans, list rows become entries."""
    data: dict[str, Any] = {}
    for described in forms.describe_form(form_key):
        name, kind = described["name"], described["type"]
        if kind == "boolean":
            data[name] = posted.get(name, "").strip().lower() in CHECKED
        elif kind == "list":
            data[name] = _rows(described, posted)
        elif name in posted:
            raw = posted.get(name, "")
            data[name] = None if kind in BLANK_IS_NONE and not raw.strip() else raw
    return data


def _rows(described: dict[str, Any], posted: Any) -> list[dict[str, str]]:
    items = [f["name"] for f in described.get("item_fields") or ()]
    rows: dict[int, dict[str, str]] = {}
    for key in posted:
        match = _ROW_KEY.fullmatch(key)
        if match and match["field"] == described["name"] and match["item"] in items:
            rows.setdefault(int(match["index"]), {})[match["item"]] = posted.get(key, "").strip()
    filled = [rows[i] for i in sorted(rows)[:MAX_ROWS] if any(rows[i].values())]
    return [{item: row.get(item, "") for item in items} for row in filled]


def list_rows(value: Any) -> list[dict[str, Any]]:
    """The rows a list field shows: the entries it holds, then a few empty ones to fill in."""
    entries = [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
    return entries + [{}] * SPARE_ROWS
