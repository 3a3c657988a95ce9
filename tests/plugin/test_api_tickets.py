"""Ticket endpoints: draft-check, latest guidance (flags follow the current thresholds), feedback."""

import pytest
from sqlalchemy import select

from plugin.storage import AuditEntry, Feedback

DEFLECTING = "Expedia is an independent third party, please contact Expedia."
OWNED = "I'm sorry about the pickup address. I'll call Expedia myself now and get you a working address within the hour."
GUIDANCE = "/api/v1/tickets/generic/T-1042/guidance"
DRAFT = "/api/v1/tickets/generic/T-1042/draft-check"
FEEDBACK = "/api/v1/tickets/generic/T-1042/feedback"


def test_a_deflecting_draft_is_flagged_with_a_rewrite_and_an_owned_one_is_not(api_db):
    api_db.deliver()
    flagged = api_db.call("POST", DRAFT, role="agent", json={"draft": DEFLECTING})
    assert flagged.status_code == 200, flagged.json
    body = flagged.json
    assert "deflection" in body["draft"]["flags"] and body["draft"]["spans"]
    assert body["ticket"] == {"source": "generic", "id": "T-1042"} and body["scores"]["escalation_risk"] is not None
    assert "I'll contact Expedia" in body["rewrite"]["text"]
    owned = api_db.call("POST", DRAFT, role="agent", json={"draft": OWNED}).json
    assert owned["draft"]["flags"] == [] and owned["rewrite"] is None
    skipped = api_db.call("POST", DRAFT, role="agent", json={"draft": DEFLECTING, "rewrite": False}).json
    assert skipped["rewrite"] is None and "deflection" in skipped["draft"]["flags"]


def test_a_draft_is_checked_in_the_context_of_the_stored_ticket(api):
    api.deliver()
    angry = {"event_id": "e2", "ticket": {"id": "T-9", "messages": [
        {"author_role": "customer", "body": "Third time I'm writing. Fix this today or I'm disputing the charge "
                                            "with my bank and posting about you everywhere."}]}}
    import json

    api.deliver(json.dumps(angry).encode())
    calm = api.call("POST", DRAFT, role="agent", json={"draft": OWNED}).json
    heated = api.call("POST", "/api/v1/tickets/generic/T-9/draft-check", role="agent", json={"draft": OWNED}).json
    assert heated["draft"]["scores"] == calm["draft"]["scores"]  # the draft itself reads the same
    assert heated["scores"]["escalation_risk"] != calm["scores"]["escalation_risk"]  # the ticket around it does not


@pytest.mark.parametrize("body, field", [({}, "draft"), ({"draft": ""}, "draft"), ({"draft": 3}, "draft"),
                                         ({"draft": "x" * 20_001}, "draft"), ({"draft": "ok", "extra": 1}, "extra"),
                                         ({"draft": "ok", "rewrite": "maybe"}, "rewrite"), ([], "_schema")])
def test_draft_check_names_bad_fields(api, body, field):
    api.deliver()
    response = api.call("POST", DRAFT, role="agent", json=body)
    assert response.status_code == 422 and field in response.json["fields"] and field in response.json["detail"]


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/tickets/generic/nope/draft-check", {"draft": "hi"}),
    ("GET", "/api/v1/tickets/generic/nope/guidance", None),
    ("POST", "/api/v1/tickets/generic/nope/feedback", {"kind": "suggestion_used"}),
    ("GET", "/api/v1/tickets/zendesk/T-1042/guidance", None),
])
def test_unknown_tickets_are_404(api, method, path, body):
    api.deliver()
    response = api.call(method, path, role="agent", json=body)
    assert response.status_code == 404 and response.json["error"] == "not found"


def test_guidance_returns_the_latest_analysis(api_db):
    api_db.deliver()
    response = api_db.call("GET", GUIDANCE, role="agent")
    assert response.status_code == 200, response.json
    body = response.json
    assert "deflection" in body["analysis"]["flags"] and body["guidance"]["rewrite"]["text"]
    assert body["thresholds"]["deflection"] == pytest.approx(0.3258) and body["model_version"].startswith("td1-")


def test_a_threshold_change_shows_at_once_in_guidance_flags(api_db):
    api_db.deliver()
    before = api_db.call("GET", GUIDANCE, role="agent").json
    assert "deflection" in before["analysis"]["flags"] and before["guidance"]["risk"] != "low"
    put = api_db.call("PUT", "/api/v1/admin/thresholds", json={"thresholds": {"deflection": 1.0, "blame": 0.999}})
    assert put.status_code == 200 and put.json["overrides"] == {"deflection": 1.0, "blame": 0.999}
    after = api_db.call("GET", GUIDANCE, role="agent").json
    assert "deflection" not in after["analysis"]["flags"]
    assert all("deflection" not in m["flags"] and not m["spans"] for m in after["analysis"]["messages"])
    assert after["thresholds"]["deflection"] == 1.0
    assert after["analysis"]["scores"] == before["analysis"]["scores"]  # the stored scores did not change
    draft = api_db.call("POST", DRAFT, role="agent", json={"draft": DEFLECTING}).json
    assert "deflection" not in draft["draft"]["flags"]  # live checks use the new threshold too
    api_db.call("PUT", "/api/v1/admin/thresholds", json={"thresholds": {"deflection": None, "blame": None}})
    assert "deflection" in api_db.call("GET", GUIDANCE, role="agent").json["analysis"]["flags"]


@pytest.mark.parametrize("body", [
    {"kind": "suggestion_used", "message_index": 1},
    {"kind": "suggestion_edited", "text": "I'll call Expedia now."},
    {"kind": "suggestion_dismissed"},
    {"kind": "flag_confirmed", "label": "deflection", "message_index": 1},
    {"kind": "flag_wrong", "label": "blame"},
])
def test_feedback_is_stored_with_the_caller_as_actor(api_db, body):
    api_db.deliver()
    response = api_db.call("POST", FEEDBACK, role="agent", json=body)
    assert response.status_code == 201, response.json
    assert response.json["actor"] == "test agent" and response.json["kind"] == body["kind"]
    with api_db.session() as session:
        row = session.scalars(select(Feedback)).one()
        assert row.actor == "test agent" and row.kind == body["kind"]
        assert row.value["label"] == body.get("label") and row.value["text"] == body.get("text")


@pytest.mark.parametrize("body, field", [
    ({"kind": "liked"}, "kind"), ({}, "kind"), ({"kind": "flag_wrong"}, "label"),
    ({"kind": "flag_confirmed", "label": "rudeness"}, "label"), ({"kind": "suggestion_used", "message_index": -1}, "message_index"),
    ({"kind": "suggestion_used", "message_index": 7}, "message_index"), ({"kind": "suggestion_used", "text": ""}, "text"),
])
def test_feedback_names_bad_fields(api, body, field):
    api.deliver()
    response = api.call("POST", FEEDBACK, role="agent", json=body)
    assert response.status_code == 422 and field in response.json["fields"], response.json


def test_at_risk_query_errors_name_the_field(api):
    response = api.call("GET", "/api/v1/customers/at-risk?sort=size&limit=0", role="lead")
    assert response.status_code == 422 and {"sort", "limit"} <= set(response.json["fields"])
    assert api.call("GET", "/api/v1/customers/at-risk", role="lead").json == {"customers": []}


def test_nothing_in_the_audit_log_for_agent_calls(api):
    api.deliver()
    api.call("POST", DRAFT, role="agent", json={"draft": OWNED})
    with api.session() as session:
        assert not [a for a in session.scalars(select(AuditEntry)) if a.actor == "test agent"]
