"""One contract, every adapter: docs, fixtures, fail-closed signatures, typed parse errors."""

import time
from pathlib import Path

import pytest

from integrations import ADAPTERS, adapter_class
from integrations.base import Delivery, NotConfigured, Unauthorized
from integrations.generic.adapter import signed_headers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-0123456789"


def settings(adapter):
    return {f"TRUSTDESK_{adapter.name.upper()}_WEBHOOK_SECRET": SECRET}


def signed(adapter, body: bytes, **headers) -> Delivery:
    """A delivery signed the way this adapter's platform signs (generic only, for now)."""
    return Delivery(body, {**signed_headers(SECRET, body), **headers})


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_registry_entry_is_complete(adapter):
    folder = ROOT / "integrations" / adapter.name
    assert folder.is_dir() and (folder / "doc.md").is_file() and (folder / "adapter.py").is_file()
    assert adapter_class(adapter.name) is adapter
    for event in adapter.event_types:
        assert (FIXTURES / adapter.name / f"{event}.json").is_file(), f"no fixture for {adapter.name} {event}"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_good_signature_is_accepted_and_parsed(adapter):
    for event_type in adapter.event_types:
        body = (FIXTURES / adapter.name / f"{event_type}.json").read_bytes()
        instance = adapter(settings(adapter))
        delivery = signed(adapter, body)
        instance.verify(delivery)
        event = instance.parse(delivery)
        assert event.event_id and event.ticket["id"] and event.ticket["source"] == adapter.name


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
@pytest.mark.parametrize(
    "tamper",
    ["missing", "wrong", "stale", "body-changed", "not-a-number"],
)
def test_bad_signatures_are_refused(adapter, tamper):
    body = (FIXTURES / adapter.name / f"{adapter.event_types[0]}.json").read_bytes()
    headers = signed_headers(SECRET, body)
    if tamper == "missing":
        headers = {"Content-Type": "application/json"}
    elif tamper == "wrong":
        headers["X-Trustdesk-Signature"] = "sha256=" + "0" * 64
    elif tamper == "stale":
        headers = signed_headers(SECRET, body, now=time.time() - 600)
    elif tamper == "not-a-number":
        headers["X-Trustdesk-Timestamp"] = "yesterday"
    delivered = body + b" " if tamper == "body-changed" else body
    with pytest.raises(Unauthorized):
        adapter(settings(adapter)).verify(Delivery(delivered, headers))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_no_secret_refuses_everything(adapter):
    body = (FIXTURES / adapter.name / f"{adapter.event_types[0]}.json").read_bytes()
    with pytest.raises(NotConfigured):
        adapter({}).verify(signed(adapter, body))
