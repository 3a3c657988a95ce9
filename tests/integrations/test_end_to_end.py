"""Each helpdesk end to end through the service: a signed delivery in, the normalized ticket
stored and analysed (the whole conversation fetched where the delivery carried part of it),
exactly one internal note with its tags out when something is flagged, and nothing on a replay.

The platform is the fake API of `fakes/<name>.py`; the delivery is the first supported
fixture about the fake's ticket.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from sqlalchemy import select

from integrations import ADAPTERS
from integrations.base import TAGS, Delivery
from plugin.app import create_app
from plugin.services import services
from plugin.storage import Analysis, Ticket, WriteBack

from fakes import fake_module

FIXTURES = Path(__file__).parent / "fixtures"
HELPDESKS = [a for a in ADAPTERS if a.name != "generic"]


def delivery_about(adapter, fake) -> tuple[bytes, object]:
    """The first supported fixture whose ticket is the fake's, and its parsed event."""
    instance = adapter(fake.SETTINGS)
    for path in sorted((FIXTURES / adapter.name).glob("*.json")):
        if path.name.startswith("ignored-"):
            continue
        body = path.read_bytes()
        event = instance.parse(Delivery(body, adapter.signature_headers(fake.SETTINGS[secret_key(adapter)], body)))
        if event.ticket["id"] == fake.TICKET_ID:
            return body, event
    pytest.fail(f"{adapter.name}: no supported fixture is about the fake's ticket {fake.TICKET_ID}")


def secret_key(adapter) -> str:
    return f"TRUSTDESK_{adapter.name.upper()}_WEBHOOK_SECRET"


def run_queue() -> int:
    queue, ran = services().queue, 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_signed_delivery_in_one_note_and_tags_out_nothing_on_replay(adapter, tmp_path):
    fake = fake_module(adapter)
    body, event = delivery_about(adapter, fake)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        platform = fake.Fake(rsps, tags=["vip"], notes=[])
        app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), **fake.SETTINGS})
        client = app.test_client()
        headers = adapter.signature_headers(fake.SETTINGS[secret_key(adapter)], body)
        first = client.post(f"/webhooks/{adapter.name}", data=body, headers=headers)
        assert first.status_code == 200, first.json
        assert first.json["ticket_id"] == fake.TICKET_ID
        with app.app_context():
            assert run_queue() >= 1
            with services().sessions() as session:
                job = session.scalars(select(WriteBack).where(WriteBack.source == adapter.name)).one()
                ticket = session.scalars(select(Ticket).where(Ticket.source == adapter.name)).one()
                analyses = session.scalars(select(Analysis).where(Analysis.ticket_id == ticket.id)
                                           .order_by(Analysis.id.desc())).all()
            latest = analyses[0]
            assert job.status == "done", job.last_error
            if not event.complete:  # the job fetched the whole conversation and analysed it again
                assert not job.refresh and len(analyses) == 2
                assert len(latest.result["messages"]) >= len(event.ticket["messages"])
            flags = latest.result["flags"]
            assert flags, "the fake conversation holds a deflecting agent reply: something must be flagged"
            assert len(platform.notes) == 1 and "trustdesk-ref:" in platform.notes[0]
            assert set(platform.tags) == {"vip", *(TAGS[f] for f in flags)}

            replay = client.post(f"/webhooks/{adapter.name}", data=body, headers=headers)
            assert replay.status_code == 200 and replay.json == first.json
            assert run_queue() == 0 and len(platform.notes) == 1


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_without_api_credentials_the_service_analyses_and_writes_nothing(adapter, tmp_path):
    fake = fake_module(adapter)
    body, _ = delivery_about(adapter, fake)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        platform = fake.Fake(rsps, tags=[], notes=[])
        app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"),
                          secret_key(adapter): fake.SETTINGS[secret_key(adapter)]})
        headers = adapter.signature_headers(fake.SETTINGS[secret_key(adapter)], body)
        response = app.test_client().post(f"/webhooks/{adapter.name}", data=body, headers=headers)
        assert response.status_code == 200 and response.json["analysis"]["messages"]
        with app.app_context():
            assert run_queue() == 0
            assert app.test_client().get("/readyz").json["checks"]["integrations"][adapter.name] == "dry-run"
        assert platform.notes == [] and not rsps.calls


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_our_own_note_coming_back_is_acknowledged_and_ignored(adapter, tmp_path):
    fake = fake_module(adapter)
    own = sorted((FIXTURES / adapter.name).glob("ignored-own-note*.json"))[0].read_bytes()
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), **fake.SETTINGS})
    headers = adapter.signature_headers(fake.SETTINGS[secret_key(adapter)], own)
    response = app.test_client().post(f"/webhooks/{adapter.name}", data=own, headers=headers)
    assert response.status_code == 202 and response.json["status"] == "ignored"
    with app.app_context(), services().sessions() as session:
        assert session.scalars(select(Ticket)).first() is None


def test_flags_for_the_note_follow_the_thresholds_in_force_when_it_is_written(tmp_path):
    from plugin import runtime

    adapter = next(a for a in HELPDESKS if a.name == "zammad")
    fake = fake_module(adapter)
    body, _ = delivery_about(adapter, fake)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        platform = fake.Fake(rsps, tags=[], notes=[])
        app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), **fake.SETTINGS})
        headers = adapter.signature_headers(fake.SETTINGS[secret_key(adapter)], body)
        assert app.test_client().post(f"/webhooks/{adapter.name}", data=body, headers=headers).status_code == 200
        with app.app_context():
            # An admin raises every threshold before the job runs: nothing is flagged any more.
            with services().sessions.begin() as session:
                runtime.write_setting(session, runtime.THRESHOLDS, {name: 1.0 for name in runtime.THRESHOLD_NAMES}, "admin")
            run_queue()
            with services().sessions() as session:
                assert session.scalars(select(WriteBack)).one().status == "done"
        assert platform.notes == [] and platform.tags == []
