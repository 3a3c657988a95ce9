"""JSON responses from orjson carry what Flask's own provider would write."""

import dataclasses
import datetime as dt
import decimal
import json
import math
import uuid

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from plugin.json_responses import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


VALUES = {
    "text": "naïve café — ☕ 🙂 \u2028 \"quoted\" \\ back",
    "numbers": [0, -1, 2 ** 63 - 1, 0.1, 1e-7, 123456.789, True, None],
    "when": dt.datetime(2026, 12, 5, 7, 0, 1, tzinfo=dt.timezone.utc),
    "day": dt.date(2026, 12, 5),
    "money": decimal.Decimal("12.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "point": Point(3, "p"),
    "nested": {"b": [{"z": 1, "a": 2}], "a": {}},
}


def _apps(debug: bool = False):
    ours, flasks = Flask("ours"), Flask("flasks")
    ours.json = OrjsonProvider(ours)
    for app in (ours, flasks):
        app.debug = debug
    return ours, flasks


def test_same_content_and_key_order_as_flask():
    ours, flasks = _apps()
    with ours.app_context():
        mine = ours.json.response(VALUES)
    with flasks.app_context():
        theirs = flasks.json.response(VALUES)
    assert mine.mimetype == theirs.mimetype == "application/json"
    assert json.loads(mine.get_data()) == json.loads(theirs.get_data())
    body = mine.get_data(as_text=True)
    assert body.endswith("}\n") and body.count("\n") == 1 and '": ' not in body  # compact, one newline, as Flask's
    assert '"Sat, 05 Dec 2026 07:00:01 GMT"' in body  # dates as Flask writes them, not orjson's ISO form
    keys = list(json.loads(body))
    assert keys == sorted(keys)


def test_pretty_printed_when_debugging():
    ours, flasks = _apps(debug=True)
    with ours.app_context():
        body = ours.json.response({"b": 1, "a": [1, 2]}).get_data(as_text=True)
    assert body == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


def test_what_orjson_cannot_write_goes_to_flasks_encoder():
    ours, _ = _apps()
    with ours.app_context():
        assert json.loads(ours.json.response({"big": 2 ** 70}).get_data()) == {"big": 2 ** 70}
        with pytest.raises(TypeError):  # as with Flask's own provider: the app's error handler answers
            ours.json.response({"thing": object()})


def test_nan_is_written_as_null_not_as_invalid_json():
    ours, _ = _apps()
    with ours.app_context():
        assert json.loads(ours.json.response({"x": math.nan}).get_data()) == {"x": None}


def test_the_service_uses_it(api):
    assert isinstance(api.app.json, OrjsonProvider) and isinstance(api.app.json, DefaultJSONProvider)
    delivered = api.deliver()
    assert delivered["analysis"]["model_version"] and delivered["guidance"]["suggestions"]
