"""Property-based: no body or header set makes the webhook or the API answer 5xx (issue 4, "Bad input and faults")."""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.generic.adapter import sign
from plugin import tokens
from plugin.app import create_app
from plugin.services import services

SECRET = "fuzz-secret"
TOKEN = ""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
message = st.fixed_dictionaries({"author_role": st.sampled_from(["customer", "agent", "bot", ""]),
                                 "body": st.text(max_size=80) | json_values})
ticket = st.fixed_dictionaries({"id": st.text(max_size=5) | st.integers() | json_values,
                                "messages": st.lists(message, max_size=3) | json_values})
envelope = st.fixed_dictionaries({"event_id": st.text(max_size=8) | json_values, "ticket": ticket | json_values})
bodies = st.one_of(envelope.map(lambda d: json.dumps(d).encode()), json_values.map(lambda v: json.dumps(v).encode()),
                   st.binary(max_size=200))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    app = create_app({"TESTING": True, "data_dir": str(root), "generic_webhook_secret": SECRET})
    global TOKEN
    with app.app_context(), services().sessions.begin() as session:
        TOKEN = tokens.create(session, "fuzz", "admin")
    return app.test_client()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, how=st.sampled_from(["signed", "unsigned", "garbage", "stale"]),
       extra=st.dictionaries(st.sampled_from(["X-Trustdesk-Timestamp", "X-Trustdesk-Signature", "Content-Type"]),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20), max_size=2),
       path=st.sampled_from(["/webhooks/generic", "/webhooks/zendesk", "/webhooks/", "/healthz", "/api/v1/analyze"]))
def test_no_delivery_gets_a_server_error(client, body, how, extra, path):
    now = int(time.time())
    headers = {}
    if how == "signed":
        headers = {"X-Trustdesk-Timestamp": str(now), "X-Trustdesk-Signature": sign(SECRET, now, body)}
    elif how == "stale":
        headers = {"X-Trustdesk-Timestamp": str(now - 900), "X-Trustdesk-Signature": sign(SECRET, now - 900, body)}
    elif how == "garbage":
        headers = extra
    if path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {TOKEN}" if how == "signed" else extra.get("Content-Type", "")
    response = client.post(path, data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.is_json
