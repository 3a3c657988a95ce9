"""Admin endpoints: thresholds, partners, model versions, dead write-backs, customer export and erase; all audited."""

import json
import shutil

import pytest
from sqlalchemy import select

from models.store import DEFAULT_MODEL_DIR
from plugin import runtime
from plugin.storage import AuditEntry, Customer, WriteBack

DRAFT = "/api/v1/tickets/generic/T-1042/draft-check"


def audit(api, action):
    with api.session() as session:
        return [(a.actor, a.detail) for a in session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def test_thresholds_get_and_put_are_audited(api_db):
    got = api_db.call("GET", "/api/v1/admin/thresholds").json
    assert got["overrides"] == {} and got["thresholds"] == got["model_defaults"]
    put = api_db.call("PUT", "/api/v1/admin/thresholds", json={"thresholds": {"blame": 0.5, "ticket_escalation_risk": 0.7}})
    assert put.status_code == 200 and put.json["thresholds"]["blame"] == 0.5
    assert put.json["thresholds"]["deflection"] == got["model_defaults"]["deflection"]
    replaced = api_db.call("PUT", "/api/v1/admin/thresholds", json={"thresholds": {"deflection": 0.4}, "replace": True})
    assert replaced.json["overrides"] == {"deflection": 0.4}
    entries = audit(api_db, "settings.thresholds")
    assert [a for a, _ in entries] == ["test admin", "test admin"]
    assert entries[1][1] == {"before": {"blame": 0.5, "ticket_escalation_risk": 0.7}, "after": {"deflection": 0.4}}


@pytest.mark.parametrize("body, field", [
    ({"thresholds": {"blame": 1.5}}, "thresholds"), ({"thresholds": {"rudeness": 0.5}}, "thresholds"),
    ({"thresholds": {}}, "thresholds"), ({}, "thresholds"), ({"thresholds": {"blame": "high"}}, "thresholds"),
    ({"thresholds": {"blame": 0.5}, "replace": "yes please"}, "replace"),
])
def test_bad_thresholds_name_the_field(api, body, field):
    response = api.call("PUT", "/api/v1/admin/thresholds", json=body)
    assert response.status_code == 422 and field in response.json["fields"], response.json


def test_partner_names_apply_to_guidance_at_once(api):
    assert api.call("GET", "/api/v1/admin/partners").json == {"names": [], "source": "settings"}
    draft = {"draft": "Your booking was made with Zorblax Travel, please contact Zorblax Travel directly."}
    api.deliver()
    put = api.call("PUT", "/api/v1/admin/partners", json={"names": ["Zorblax Travel", " ", "Zorblax Travel"]})
    assert put.status_code == 200 and put.json == {"names": ["Zorblax Travel"], "source": "admin"}
    with api.app.app_context():
        from plugin.services import services

        assert services().guidance.partners[0] == "Zorblax Travel"
    checked = api.call("POST", DRAFT, role="agent", json=draft).json
    if checked["rewrite"]:
        assert "Zorblax Travel" in checked["rewrite"]["text"]
    assert audit(api, "settings.partners")[0][0] == "test admin"
    assert api.call("PUT", "/api/v1/admin/partners", json={"names": "Zorblax"}).status_code == 422


def test_partner_change_reaches_another_worker(tmp_path, api_maker):
    first = api_maker(tmp_path / "var")
    second = api_maker(tmp_path / "var")  # another worker on the same database
    first.call("PUT", "/api/v1/admin/partners", json={"names": ["Acme Air"]})
    second.call("GET", "/api/v1/admin/thresholds")  # any API request makes it look
    with second.app.app_context():
        from plugin.services import services

        assert services().guidance.partners[0] == "Acme Air"


@pytest.fixture
def second_model(tmp_path):
    """A copy of the shipped model registered under another version, with a much lower blame threshold."""
    target = tmp_path / "var" / "models" / "second"
    target.mkdir(parents=True)
    shutil.copy(DEFAULT_MODEL_DIR / "model.joblib", target / "model.joblib")
    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    manifest["model_version"] = "td1-second"
    manifest["thresholds"]["blame"] = 0.0001
    (target / "manifest.json").write_text(json.dumps(manifest))
    return "td1-second"


def test_models_activate_and_roll_back_in_every_worker(tmp_path, api_maker, second_model, monkeypatch):
    monkeypatch.setattr(runtime, "MODEL_CHECK_SECONDS", 0.0)
    api = api_maker(tmp_path / "var")
    other = api_maker(tmp_path / "var")  # a second worker
    api.deliver()
    listed = api.call("GET", "/api/v1/admin/models").json
    shipped = listed["active"]
    assert {m["version"] for m in listed["models"]} == {shipped, second_model}
    assert all(m["manifest"]["metrics"] for m in listed["models"])
    activated = api.call("POST", f"/api/v1/admin/models/{second_model}/activate")
    assert activated.status_code == 200 and activated.json["active"] == second_model
    for worker in (api, other):
        checked = worker.call("POST", DRAFT, role="agent", json={"draft": "I'll look into it."}).json
        assert checked["model_version"] == second_model and checked["thresholds"]["blame"] == 0.0001
    rolled = api.call("POST", "/api/v1/admin/models/rollback")
    assert rolled.status_code == 200 and rolled.json["active"] == shipped
    assert other.call("POST", DRAFT, role="agent", json={"draft": "I'll look into it."}).json["model_version"] == shipped
    assert api.call("POST", "/api/v1/admin/models/rollback").status_code == 409  # nothing earlier than the shipped one
    assert [d for a, d in audit(api, "model.activate") if a == "test admin"] == [{"version": second_model,
                                                                                    "previous": shipped}]
    assert audit(api, "model.rollback") == [("test admin", {"from": second_model, "to": shipped})]


def test_activating_an_unknown_or_broken_model_is_refused(tmp_path, api_maker, second_model):
    api = api_maker(tmp_path / "var")
    assert api.call("POST", "/api/v1/admin/models/td1-nope/activate").status_code == 404
    (tmp_path / "var" / "models" / "second" / "model.joblib").write_bytes(b"tampered")
    refused = api.call("POST", f"/api/v1/admin/models/{second_model}/activate")
    assert refused.status_code == 409 and "manifest" in refused.json["detail"]


def test_dead_jobs_are_listed_and_retried(api_db):
    with api_db.session() as session:
        session.add_all([WriteBack(source="generic", event_id="e-dead", status="dead", attempts=8, last_error="boom"),
                         WriteBack(source="generic", event_id="e-ok", status="done", attempts=1)])
        session.commit()
        dead_id, done_id = (session.scalar(select(WriteBack.id).where(WriteBack.event_id == e)) for e in ("e-dead", "e-ok"))
    listed = api_db.call("GET", "/api/v1/admin/jobs/dead").json["jobs"]
    assert [(j["id"], j["last_error"]) for j in listed] == [(dead_id, "boom")]
    assert api_db.call("POST", f"/api/v1/admin/jobs/{dead_id}/retry").status_code == 202
    assert api_db.call("GET", "/api/v1/admin/jobs/dead").json["jobs"] == []
    assert api_db.call("POST", f"/api/v1/admin/jobs/{dead_id}/retry").status_code == 409  # pending now
    assert api_db.call("POST", f"/api/v1/admin/jobs/{done_id}/retry").status_code == 409
    assert api_db.call("POST", "/api/v1/admin/jobs/99999/retry").status_code == 404
    assert api_db.call("POST", "/api/v1/admin/jobs/abc/retry").status_code == 404
    assert audit(api_db, "job.retry") == [("test admin", {"job_id": dead_id})]


def test_customer_export_and_erase(api_db):
    api_db.deliver()
    exported = api_db.call("GET", "/api/v1/admin/customers/generic/c-88/export")
    assert exported.status_code == 200 and exported.json["customer"]["name"] == "Dana Whitfield"
    assert exported.json["tickets"][0]["id"] == "T-1042" and exported.json["tickets"][0]["messages"]
    erased = api_db.call("DELETE", "/api/v1/admin/customers/generic/c-88")
    assert erased.status_code == 200 and erased.json["erased"] is True
    with api_db.session() as session:
        assert session.scalars(select(Customer)).all() == []
    assert api_db.call("GET", "/api/v1/admin/customers/generic/c-88/export").status_code == 404
    assert api_db.call("DELETE", "/api/v1/admin/customers/generic/c-88").status_code == 404
    assert audit(api_db, "customer.export") == [("test admin", {"source": "generic", "customer": "c-88"})]
    assert audit(api_db, "customer.erase") == [("test admin", {"source": "generic", "customer": "c-88"})]


def test_the_per_request_settings_check_fails_as_sqlalchemy_errors_do(tmp_path):
    """A database error in the bare DB-API check is an SQLAlchemyError, which refresh logs and outlives."""
    from sqlalchemy.exc import SQLAlchemyError

    from plugin.storage import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables yet
    with pytest.raises(SQLAlchemyError, match="runtime_settings"):
        runtime.current_revisions(engine)
    upgrade(engine)
    assert runtime.current_revisions(engine) == {}
