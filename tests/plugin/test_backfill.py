"""`trustdesk backfill`: recent tickets fetched whole, stored, classified, ledger filled once, nothing written back."""

from datetime import datetime, timezone

from sqlalchemy import func, select

from integrations.base import Adapter, RetryLater
from plugin.app import create_app
from plugin.backfill import backfill
from plugin.services import services
from plugin.storage import LedgerEvent, Ticket, WriteBack

TICKETS = {
    "101": {"id": "101", "requester": {"id": "c-9", "name": "Ola"}, "messages": [
        {"author_role": "customer", "body": "My parcel never arrived."},
        {"author_role": "agent", "body": "Please contact the courier directly, it is their responsibility."}]},
    "102": {"id": "102", "requester": {"id": "c-9", "name": "Ola"}, "messages": [
        {"author_role": "customer", "body": "Still no parcel, this is the third time I write."}]},
}


class FakeHelpdesk(Adapter):
    """Lists two tickets and rate-limits the first fetch once."""

    name = "fakedesk"

    def __init__(self):
        super().__init__({})
        self.limited = False

    def recent_tickets(self, since):
        assert since.tzinfo is not None
        return iter(TICKETS)

    def fetch_ticket(self, ticket_id):
        if not self.limited:
            self.limited = True
            raise RetryLater("429", retry_after=3)
        return TICKETS[ticket_id]


def test_backfill_imports_once_and_waits_when_rate_limited(tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var")})
    waits = []
    with app.app_context():
        adapter = FakeHelpdesk()
        since = datetime(2026, 11, 1, tzinfo=timezone.utc)
        report = backfill(services(), adapter, since, sleep=waits.append)
        assert (report.imported, report.refreshed, report.failed) == (2, 0, []) and waits == [3]
        with services().sessions() as session:
            assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.source == "fakedesk")) == 2
            ledger_size = session.scalar(select(func.count()).select_from(LedgerEvent))
            assert ledger_size >= 1
            assert session.scalar(select(func.count()).select_from(WriteBack)) == 0
        again = backfill(services(), adapter, since, sleep=waits.append)
        assert (again.imported, again.refreshed) == (0, 2)
        with services().sessions() as session:
            assert session.scalar(select(func.count()).select_from(LedgerEvent)) == ledger_size


def test_backfill_reports_tickets_it_cannot_read(tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var")})

    class Broken(FakeHelpdesk):
        def fetch_ticket(self, ticket_id):
            return {"id": ticket_id, "messages": []}

    with app.app_context():
        report = backfill(services(), Broken(), datetime(2026, 11, 1, tzinfo=timezone.utc))
    assert report.imported == 0 and len(report.failed) == 2 and "messages" in report.failed[0]
