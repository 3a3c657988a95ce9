"""One contract, every adapter: docs, fixtures, fail-closed signatures, typed parse errors, write-back.

Fixtures live in `fixtures/<name>/`: `<event_type>.json` for every declared
event type (a supported delivery that must parse), any other `*.json` that must
parse too, and `ignored-*.json` for deliveries that must be acknowledged and
ignored (unknown events, events without a message, events our own notes
caused). Each fixture folder has a PROVENANCE.md.

Write-back is checked against a fake of each platform's API in
`fakes/<name>.py` (built on `responses`); it exposes `SETTINGS` (a configured
integration), `TICKET_ID`, and `Fake(rsps, tags, notes)` that serves the ticket's
conversation (some customer and agent messages, plus `notes`, internal notes
already there) and keeps its tags and notes as the platform would, checking
the credentials on every call; `fail_next(status, headers)` makes the next
request fail. The generic adapter writes a signed
callback rather than a note and tags: `test_generic.py` covers it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import responses

from integrations import ADAPTERS, adapter_class
from integrations.base import TAGS, Delivery, NotConfigured, Note, RetryLater, Unauthorized, UnsupportedEvent

ROOT = Path(__file__).resolve().parents[2]
from fakes import fake_module

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-0123456789"
HELPDESKS = [a for a in ADAPTERS if a.name != "generic"]


def settings(adapter):
    return {f"TRUSTDESK_{adapter.name.upper()}_WEBHOOK_SECRET": SECRET}


def signed(adapter, body: bytes, **headers) -> Delivery:
    """A delivery signed the way this adapter's platform signs."""
    return Delivery(body, {**adapter.signature_headers(SECRET, body), **headers})


def fixtures(adapter, ignored: bool) -> list[Path]:
    files = sorted((FIXTURES / adapter.name).glob("*.json"))
    return [f for f in files if f.name.startswith("ignored-") == ignored]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_registry_entry_is_complete(adapter):
    folder = ROOT / "integrations" / adapter.name
    for name in ("adapter.py", "schemas.py", "doc.md"):
        assert (folder / name).is_file(), f"integrations/{adapter.name}/{name} is missing"
    assert adapter_class(adapter.name) is adapter
    assert (FIXTURES / adapter.name / "PROVENANCE.md").is_file()
    for event in adapter.event_types:
        assert (FIXTURES / adapter.name / f"{event}.json").is_file(), f"no fixture for {adapter.name} {event}"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_supported_fixtures_are_accepted_and_parsed(adapter):
    instance = adapter(settings(adapter))
    for path in fixtures(adapter, ignored=False):
        delivery = signed(adapter, path.read_bytes())
        instance.verify(delivery)
        event = instance.parse(delivery)
        assert event.event_id and event.ticket["id"] and event.ticket["source"] == adapter.name, path.name
        assert event.ticket["messages"], f"{path.name}: a supported event carries at least one message"
        assert all(m["author_role"] in {"customer", "agent"} for m in event.ticket["messages"]), path.name


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_unsupported_and_own_events_are_ignored(adapter):
    instance = adapter(settings(adapter))
    for path in fixtures(adapter, ignored=True):
        delivery = signed(adapter, path.read_bytes())
        instance.verify(delivery)
        with pytest.raises(UnsupportedEvent):
            instance.parse(delivery)


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_unknown_event_shape_is_ignored_not_a_crash(adapter):
    instance = adapter(settings(adapter))
    body = b'{"something": "else", "id": 1}'
    with pytest.raises((UnsupportedEvent,)):
        instance.parse(signed(adapter, body))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
@pytest.mark.parametrize("tamper", ["missing", "wrong", "stale", "body-changed"])
def test_bad_signatures_are_refused(adapter, tamper):
    if tamper == "stale" and adapter.replay_window is None:
        pytest.skip(f"{adapter.name} sends no timestamp to check")
    if tamper == "body-changed" and not adapter.signs_body:
        pytest.skip(f"{adapter.name} does not sign the body (it presents the shared secret)")
    body = (FIXTURES / adapter.name / f"{adapter.event_types[0]}.json").read_bytes()
    headers, delivered = adapter.signature_headers(SECRET, body), body
    if tamper == "missing":
        headers = {"Content-Type": "application/json"}
    elif tamper == "wrong":
        headers = adapter.signature_headers("another-secret", body)
    elif tamper == "stale":
        headers = adapter.signature_headers(SECRET, body, now=time.time() - adapter.replay_window - 60)
    else:
        delivered = body + b" "
    with pytest.raises(Unauthorized):
        adapter(settings(adapter)).verify(Delivery(delivered, headers))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_no_secret_refuses_everything(adapter):
    body = (FIXTURES / adapter.name / f"{adapter.event_types[0]}.json").read_bytes()
    with pytest.raises(NotConfigured):
        adapter({}).verify(signed(adapter, body))


# --- write-back, against each platform's fake API ---------------------------------

def a_note(ticket_id: str, ref: str = "abc123") -> Note:
    marker = f"trustdesk-ref:{ref}"
    text = f"Trustdesk: deflection risk 0.91.\nSuggested reply: We have contacted our partner.\n{marker}"
    return Note(event_id=f"evt-{ref}", ticket_id=ticket_id, marker=marker, text=text,
                html=f"<p>Trustdesk: deflection risk 0.91.</p><p>{marker}</p>",
                tags=(TAGS["deflection"], TAGS["escalation_risk"]))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_without_api_credentials_an_integration_is_in_dry_run(adapter):
    assert not adapter(settings(adapter)).can_write_back
    assert adapter(fake_module(adapter).SETTINGS).can_write_back


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_write_back_posts_one_note_and_merges_tags(adapter, rsps):
    fake = fake_module(adapter)
    platform = fake.Fake(rsps, tags=["vip", "billing"], notes=[])
    instance = adapter(fake.SETTINGS)
    note = a_note(fake.TICKET_ID)
    instance.write_back(note)
    assert len(platform.notes) == 1 and note.marker in platform.notes[0]
    assert set(platform.tags) == {"vip", "billing", *note.tags}
    instance.write_back(note)  # a retried job finds its marker and posts nothing more
    assert len(platform.notes) == 1 and set(platform.tags) == {"vip", "billing", *note.tags}


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
@pytest.mark.parametrize("retry_after", ["7", None])
def test_rate_limit_asks_for_a_retry(adapter, rsps, retry_after):
    fake = fake_module(adapter)
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, {"Retry-After": retry_after} if retry_after else {})
    with pytest.raises(RetryLater) as caught:
        adapter(fake.SETTINGS).write_back(a_note(fake.TICKET_ID))
    assert caught.value.retry_after == (7.0 if retry_after else None)


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_server_error_then_success_writes_one_note(adapter, rsps):
    fake = fake_module(adapter)
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    platform.fail_next(503, {})
    instance, note = adapter(fake.SETTINGS), a_note(fake.TICKET_ID)
    with pytest.raises(RetryLater):
        instance.write_back(note)
    instance.write_back(note)
    assert len(platform.notes) == 1 and set(platform.tags) == {"vip", *note.tags}


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_a_note_already_there_is_not_posted_again(adapter, rsps):
    fake = fake_module(adapter)
    note = a_note(fake.TICKET_ID)
    platform = fake.Fake(rsps, tags=[], notes=[note.text])
    adapter(fake.SETTINGS).write_back(note)
    assert platform.notes == [note.text]


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_own_notes_are_ignored_when_their_event_comes_back(adapter):
    assert fixtures(adapter, ignored=True), f"{adapter.name}: add an ignored-*.json fixture"
    own = [p for p in fixtures(adapter, ignored=True) if "own" in p.name]
    assert own, f"{adapter.name}: add ignored-own-note*.json, the delivery our note would cause"


@pytest.mark.parametrize("adapter", HELPDESKS, ids=lambda a: a.name)
def test_fetch_ticket_returns_the_conversation_without_our_notes(adapter, rsps):
    fake = fake_module(adapter)
    ours = a_note(fake.TICKET_ID)
    fake.Fake(rsps, tags=["vip"], notes=[ours.text])
    ticket = adapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    assert str(ticket["id"]) == fake.TICKET_ID and ticket["source"] == adapter.name
    roles = {m["author_role"] for m in ticket["messages"]}
    assert "customer" in roles, "the fake conversation has a customer message"
    assert not any(ours.marker in (m.get("body") or "") for m in ticket["messages"])
