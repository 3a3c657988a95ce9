"""Property-based: no body or header set makes the webhook or the API answer 5xx (issue 4, "Bad input and faults")."""

import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations import ADAPTERS
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
    secrets = {f"TRUSTDESK_{a.name.upper()}_WEBHOOK_SECRET": SECRET for a in ADAPTERS if a.name != "generic"}
    app = create_app({"TESTING": True, "data_dir": str(root), "generic_webhook_secret": SECRET, **secrets})
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


# --- every helpdesk adapter: its real fixtures with parts replaced, correctly signed ---------------------

FIXTURES = Path(__file__).resolve().parents[1] / "integrations" / "fixtures"
REAL = [(a, json.loads(path.read_bytes())) for a in ADAPTERS for path in sorted((FIXTURES / a.name).glob("*.json"))]


def _mutated(draw_value, document, path):
    """The document with the value at `path` (a list of keys/indexes, followed while it exists) replaced."""
    if not path or not isinstance(document, (dict, list)) or not document:
        return draw_value
    key = path[0] % len(document)
    if isinstance(document, dict):
        name = list(document)[key]
        return {**document, name: _mutated(draw_value, document[name], path[1:])}
    return [_mutated(draw_value, item, path[1:]) if i == key else item for i, item in enumerate(document)]


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(real=st.sampled_from(REAL), value=json_values, path=st.lists(st.integers(0, 50), min_size=0, max_size=4))
def test_mutated_real_deliveries_never_get_a_server_error(client, real, value, path):
    adapter, document = real
    body = json.dumps(_mutated(value, document, path)).encode()
    response = client.post(f"/webhooks/{adapter.name}", data=body, headers=adapter.signature_headers(SECRET, body))
    assert response.status_code < 500, (adapter.name, response.get_data(as_text=True)[:300])


# --- API v1: every endpoint, with bodies near and far from its schema --------------------------------------

ROLE_TOKENS: dict[str, str] = {}
API_ROUTES = [
    ("POST", "/api/v1/tickets/{source}/{ticket}/draft-check"), ("GET", "/api/v1/tickets/{source}/{ticket}/guidance"),
    ("POST", "/api/v1/tickets/{source}/{ticket}/feedback"), ("GET", "/api/v1/customers/at-risk"),
    ("GET", "/api/v1/admin/thresholds"), ("PUT", "/api/v1/admin/thresholds"), ("GET", "/api/v1/admin/partners"),
    ("PUT", "/api/v1/admin/partners"), ("GET", "/api/v1/admin/models"), ("POST", "/api/v1/admin/models/{ticket}/activate"),
    ("POST", "/api/v1/admin/models/rollback"), ("GET", "/api/v1/admin/jobs/dead"), ("POST", "/api/v1/admin/jobs/{ticket}/retry"),
    ("GET", "/api/v1/admin/alerts"), ("POST", "/api/v1/admin/alerts/{ticket}/retry"),
    ("GET", "/api/v1/admin/customers/{source}/{ticket}/export"), ("POST", "/api/v1/analyze"),
    ("GET", "/openapi.json"), ("GET", "/docs"),
]
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 10**20)
shaped = st.one_of(
    st.fixed_dictionaries({"draft": st.text(max_size=200) | json_values}, optional={"rewrite": json_values}),
    st.fixed_dictionaries({"kind": st.sampled_from(["suggestion_used", "suggestion_edited", "flag_wrong", "flag_confirmed", "x"])
                           | json_values},
                          optional={"label": st.sampled_from(["blame", "deflection", "nope"]) | json_values,
                                    "message_index": numbers | json_values, "text": st.text(max_size=40) | json_values}),
    st.fixed_dictionaries({"thresholds": st.dictionaries(st.sampled_from(["blame", "deflection", "escalation_risk",
                                                                          "ticket_escalation_risk", "x"]),
                                                         numbers | st.none() | json_values, max_size=4) | json_values},
                          optional={"replace": json_values}),
    st.fixed_dictionaries({"names": st.lists(st.text(max_size=30), max_size=5) | json_values}),
)
api_bodies = st.one_of(shaped.map(lambda d: json.dumps(d).encode()), bodies)
segments = st.sampled_from(["generic", "T-1042", "zendesk", "1"]) | st.text(min_size=1, max_size=12)


@pytest.fixture(scope="module")
def api_client(tmp_path_factory):
    from integrations.generic.adapter import signed_headers

    root = tmp_path_factory.mktemp("fuzz-api")
    app = create_app({"TESTING": True, "data_dir": str(root), "generic_webhook_secret": SECRET})
    with app.app_context(), services().sessions.begin() as session:
        for role in tokens.ROLES:
            ROLE_TOKENS[role] = tokens.create(session, f"fuzz {role}", role)
    client = app.test_client()
    fixture = (Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json").read_bytes()
    assert client.post("/webhooks/generic", data=fixture, headers=signed_headers(SECRET, fixture)).status_code == 200
    return client


# 600 here plus the 1000 above: 1,600 generated requests per run, under a minute together.
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(API_ROUTES), source=segments, ticket=segments, body=api_bodies,
       who=st.sampled_from(["agent", "lead", "admin", "admin", "garbage", "none"]),
       content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=latin-1"]),
       query=st.dictionaries(st.sampled_from(["sort", "limit", "x"]), st.text(max_size=8), max_size=2))
def test_no_api_request_gets_a_server_error(api_client, route, source, ticket, body, who, content_type, query):
    method, template = route
    if template == "/api/v1/tickets/{source}/{ticket}/draft-check" and source != "generic":
        source = "generic"  # most drafts should reach the scorer, not stop at the 404
    path = template.format(source=quote(source, safe=""), ticket=quote(ticket, safe=""))
    headers = {"Content-Type": content_type} if content_type else {}
    if who in ROLE_TOKENS:
        headers["Authorization"] = f"Bearer {ROLE_TOKENS[who]}"
    elif who == "garbage":
        headers["Authorization"] = "Bearer td_" + quote(source)
    response = api_client.open(path, method=method, data=body if method != "GET" else None, headers=headers,
                               query_string=query)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:  # 308: werkzeug's redirect for a path ending in a decoded slash
        assert response.is_json
