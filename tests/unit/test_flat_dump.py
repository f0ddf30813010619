"""Lists of flat API records are written without marshmallow's per-value machinery: exactly as marshmallow writes
them, for every schema that takes the short way, or the contract would drift from its OpenAPI description."""

from __future__ import annotations

import datetime as dt
import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from marshmallow import fields

from webapp.api import schemas
from webapp.api.present import _flat_dumper, dump

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FLAT = [c for c in vars(schemas).values()
        if inspect.isclass(c) and issubclass(c, schemas.Schema) and _flat_dumper(c) is not None]


def _values(field: fields.Field, index: int) -> Any:
    if isinstance(field, fields.DateTime):
        return [dt.datetime(2026, 12, 3, 9, 30, 5, 120, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=SHANGHAI),
                dt.datetime(2026, 2, 28, 23, 59)][index % 3]
    if isinstance(field, fields.Boolean):
        return [True, False, 1, 0, "true"][index % 5]
    if isinstance(field, fields.Integer):
        return [7, 0, True, 2**40][index % 4]
    if isinstance(field, fields.List):
        return [["leader", "clerk"], [], ("甲",)][index % 3]
    return ["申请 A", "", "x" * 300, 42][index % 4]


def _record(schema: type[schemas.Schema], index: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for number, (name, field) in enumerate(schema().dump_fields.items()):
        choice = (index + number) % 6
        if choice == 5:
            continue  # a record without the key: both leave it out
        record[field.attribute or name] = None if choice == 4 else _values(field, index + number)
    return record


def test_some_schemas_take_the_short_way():
    assert schemas.TaskOut in FLAT and schemas.AttachmentOut in FLAT
    assert schemas.InstanceOut not in FLAT  # nested: marshmallow writes it


@pytest.mark.parametrize("schema", FLAT, ids=lambda s: s.__name__)
def test_a_list_is_written_exactly_as_marshmallow_writes_it(schema):
    records = [_record(schema, index) for index in range(24)]
    assert dump(schema, records, many=True) == schema(many=True).dump(records)


@pytest.mark.parametrize("schema", FLAT, ids=lambda s: s.__name__)
def test_a_list_of_objects_is_written_as_marshmallow_writes_it(schema):
    # Views hand over ORM rows as well as dicts (an instance's comment thread): read by attribute, as marshmallow does.
    records = [SimpleNamespace(**_record(schema, index)) for index in range(24)]
    assert dump(schema, records, many=True) == schema(many=True).dump(records)
