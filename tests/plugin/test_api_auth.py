"""Every API v1 endpoint: 401 without a valid token, 403 below its role, bodies checked before anything runs."""

import pytest

# (method, path, least role, a valid body or None)
ENDPOINTS = [
    ("POST", "/api/v1/analyze", "agent", {"id": "1", "messages": [{"author_role": "customer", "body": "Hi"}]}),
    ("POST", "/api/v1/tickets/generic/T-1042/draft-check", "agent", {"draft": "I'll sort it out."}),
    ("GET", "/api/v1/tickets/generic/T-1042/guidance", "agent", None),
    ("POST", "/api/v1/tickets/generic/T-1042/feedback", "agent", {"kind": "suggestion_used"}),
    ("GET", "/api/v1/customers/at-risk", "lead", None),
    ("GET", "/api/v1/admin/thresholds", "admin", None),
    ("PUT", "/api/v1/admin/thresholds", "admin", {"thresholds": {"blame": 0.5}}),
    ("GET", "/api/v1/admin/partners", "admin", None),
    ("PUT", "/api/v1/admin/partners", "admin", {"names": ["Acme Air"]}),
    ("GET", "/api/v1/admin/models", "admin", None),
    ("POST", "/api/v1/admin/models/td1-nope/activate", "admin", None),
    ("POST", "/api/v1/admin/models/rollback", "admin", None),
    ("GET", "/api/v1/admin/jobs/dead", "admin", None),
    ("POST", "/api/v1/admin/jobs/1/retry", "admin", None),
    ("GET", "/api/v1/admin/alerts", "admin", None),
    ("POST", "/api/v1/admin/alerts/1/retry", "admin", None),
    ("GET", "/api/v1/admin/customers/generic/c-88/export", "admin", None),
    ("DELETE", "/api/v1/admin/customers/generic/c-88", "admin", None),
]
ROLES = ("agent", "lead", "admin")
BELOW = [(m, p, r, b, lower) for m, p, r, b in ENDPOINTS for lower in ROLES[:ROLES.index(r)]]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, api_maker):
    api = api_maker(tmp_path_factory.mktemp("auth"))
    api.deliver()
    return api


@pytest.mark.parametrize("method, path, role, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("header", [None, "Bearer td_nope", "Basic abc"])
def test_no_valid_token_is_401(shared, method, path, role, body, header):
    headers = {"Authorization": header} if header else {}
    response = shared.call(method, path, role=None, json=body, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"] == "unauthorized"


@pytest.mark.parametrize("method, path, role, body, lower", BELOW, ids=[f"{m} {p} as {lo}" for m, p, _, _, lo in BELOW])
def test_a_lower_role_is_403(shared, method, path, role, body, lower):
    response = shared.call(method, path, role=lower, json=body)
    assert response.status_code == 403 and role in response.json["detail"]


@pytest.mark.parametrize("method, path, role, body", [e for e in ENDPOINTS if e[3] is not None],
                         ids=[f"{m} {p}" for m, p, _, b in ENDPOINTS if b is not None])
def test_bodies_that_are_not_json_are_400_and_too_large_ones_413(shared, method, path, role, body):
    bad = shared.call(method, path, role=role, data=b"{nope", content_type="application/json")
    assert bad.status_code == 400 and bad.json["error"] == "invalid JSON"
    huge = shared.call(method, path, role=role, data=b'{"x": "' + b"a" * (1024 * 1024) + b'"}',
                       content_type="application/json")
    assert huge.status_code == 413 and huge.is_json


def test_deeply_nested_json_is_a_client_error(shared):
    body = b"[" * 100_000 + b"]" * 100_000
    response = shared.call("POST", "/api/v1/tickets/generic/T-1042/draft-check", role="agent", data=body,
                           content_type="application/json")
    assert response.status_code in (400, 422)
