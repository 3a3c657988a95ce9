"""Admin views validate their input (4xx with a message, never a 500) and refuse leads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plugin.app import create_app
from plugin.console import users
from plugin.services import services

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tiny = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_corpus"
    app = create_app({"TESTING": True, "data_dir": str(tmp_path_factory.mktemp("var")), "training_data_dir": str(tiny)})
    with app.app_context(), services().sessions.begin() as session:
        users.create(session, "ada", "admin", PASSWORD, actor="test")
        users.create(session, "lee", "lead", PASSWORD, actor="test")
    return app


def signed_in(app, username):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    assert client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/console/trends").text).group(1)
    return client


@pytest.mark.parametrize("form,message", [
    ({"blame": "lots"}, "is not a number"),
    ({"blame": "1.5"}, "between 0 and 1"),
    ({"deflection": "nan"}, "between 0 and 1"),
])
def test_bad_thresholds_are_400(app, form, message):
    client = signed_in(app, "ada")
    response = client.post("/console/admin/thresholds", data={**form, "csrf_token": client.csrf})
    assert response.status_code == 400 and message in response.text


@pytest.mark.parametrize("method,path,data,status", [
    ("get", "/console/admin/playbooks/no-such-playbook", None, 404),
    ("post", "/console/admin/playbooks/general", {"action": "preview", "sample": "x", "text": "id = 'general'"}, 400),
    ("post", "/console/admin/playbooks/Bad_Name", {"action": "save", "text": ""}, 400),
    ("post", "/console/admin/models/activate", {"version": ""}, 400),
    ("post", "/console/admin/models/activate", {"version": "td1-nope"}, 404),
    ("post", "/console/admin/models/rollback", {}, 409),
    ("post", "/console/admin/models/shadow", {"version": "td1-nope"}, 404),
    ("post", "/console/admin/integrations/jobs/999/retry", {}, 404),
    ("post", "/console/admin/integrations/alerts/999/retry", {}, 404),
    ("get", "/console/admin/models/runs/999.json", None, 404),
    ("get", "/console/trends?weeks=0", None, 400),
])
def test_bad_requests_are_answered_with_4xx(app, method, path, data, status):
    client = signed_in(app, "ada")
    kwargs = {} if data is None else {"data": {**data, "csrf_token": client.csrf}}
    assert getattr(client, method)(path, **kwargs).status_code == status


def test_a_form_without_csrf_token_is_refused(app):
    client = signed_in(app, "ada")
    assert client.post("/console/admin/thresholds", data={"blame": "0.5"}).status_code == 400


@pytest.mark.parametrize("path", ["/console/admin/", "/console/admin/partners", "/console/admin/models/",
                                  "/console/admin/thresholds/curve.json", "/console/admin/integrations"])
def test_leads_are_refused(app, path):
    assert signed_in(app, "lee").get(path).status_code == 403


def test_a_partner_list_is_saved_and_audited(app):
    client = signed_in(app, "ada")
    response = client.post("/console/admin/partners", data={"names": "Acme Travel\n\nAcme Travel\nZippy", "csrf_token": client.csrf})
    assert response.status_code == 302
    assert "Acme Travel\nZippy" in client.get("/console/admin/partners").text
    assert client.post("/console/admin/partners", data={"names": "x" * 101, "csrf_token": client.csrf}).status_code == 400


def test_a_failed_alert_is_sent_again_from_the_integrations_page(app):
    from sqlalchemy import select

    from plugin.storage import AlertSent, AuditEntry, Ticket

    with app.app_context(), services().sessions.begin() as session:
        ticket = Ticket(source="generic", external_id="T-alert")
        session.add(ticket)
        session.flush()
        failed = AlertSent(ticket_id=ticket.id, level="high", status="failed", attempts=6,
                           channels={"webhook": "failed: ConnectionError: refused"})
        session.add(failed)
        session.flush()
        failed_id = failed.id
    client = signed_in(app, "ada")
    page = client.get("/console/admin/integrations").text
    assert f'action="/console/admin/integrations/alerts/{failed_id}/retry"' in page and "Send generic/T-alert again" in page
    assert client.post(f"/console/admin/integrations/alerts/{failed_id}/retry").status_code == 400  # no CSRF token
    response = client.post(f"/console/admin/integrations/alerts/{failed_id}/retry", data={"csrf_token": client.csrf})
    assert response.status_code == 302
    with app.app_context(), services().sessions() as session:
        assert session.get(AlertSent, failed_id).status == "pending"
        assert {"alert_id": failed_id} in session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "alert.retry")).all()
    again = client.post(f"/console/admin/integrations/alerts/{failed_id}/retry", data={"csrf_token": client.csrf})
    assert again.status_code == 409


def test_the_versions_table_shows_how_well_each_model_names_escalation_kinds(app):
    import json

    from models import store

    kinds = json.loads((store.DEFAULT_MODEL_DIR / "manifest.json").read_text())["metrics"]["kinds"]
    page = signed_in(app, "ada").get("/console/admin/models/").text
    assert '<th scope="col">kinds</th>' in page
    assert f"{kinds['precision']:.2f} / {kinds['recall']:.2f} / <strong>{kinds['f1']:.2f}</strong>" in page
