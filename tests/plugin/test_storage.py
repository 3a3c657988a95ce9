"""Storage on SQLite and on a real PostgreSQL: migrations, round trips, constraints."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from plugin.storage import (Analysis, Base, Customer, Message, Ticket, WebhookEvent, current_revision, make_engine,
                            session_factory, upgrade)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_migrations_create_every_table_and_are_idempotent(engine):
    from alembic.script import ScriptDirectory

    from plugin.storage import MIGRATIONS

    assert current_revision(engine) == ScriptDirectory(str(MIGRATIONS)).get_current_head() == "0007"
    upgrade(engine)  # a second start changes nothing
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_and_migrations_agree(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_ticket_round_trip(engine):
    Session = session_factory(engine)
    with Session.begin() as session:
        customer = Customer(source="generic", external_id="c-1", name="Dana", value=1800.0)
        ticket = Ticket(source="generic", external_id="T-1", subject="Car", status="open",
                        created_at=datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))
        session.add_all([customer, ticket])
        session.flush()
        ticket.customer_id = customer.id
        ticket.messages = [Message(position=0, author_role="customer", body="Where is my car? 😡"),
                           Message(position=1, author_role="agent", body="On it.")]
        session.add(Analysis(ticket_id=ticket.id, model_version="td1-x", result={"scores": {"blame": 0.1}}))
    with Session() as session:
        stored = session.scalars(select(Ticket).where(Ticket.external_id == "T-1")).one()
        assert [m.body for m in stored.messages] == ["Where is my car? 😡", "On it."]
        assert session.scalars(select(Analysis)).one().result["scores"]["blame"] == 0.1


def test_an_event_is_stored_once(engine):
    Session = session_factory(engine)
    with Session.begin() as session:
        session.add(WebhookEvent(source="generic", event_id="e1", body_sha256="a" * 64))
    with pytest.raises(IntegrityError):
        with Session.begin() as session:
            session.add(WebhookEvent(source="generic", event_id="e1", body_sha256="b" * 64))


def test_sqlite_is_set_up_for_several_workers(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"
        assert connection.execute(text("pragma busy_timeout")).scalar() >= 5000
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


def test_json_columns_are_written_as_json_any_reader_can_read():
    import json

    import numpy as np

    from plugin.storage import dump_json

    value = {"scores": {"blame": 0.1 + 0.2, "none": None}, 1: [np.float32(0.5), np.int64(3), (1, 2)], "text": "é ☕"}
    assert json.loads(dump_json(value)) == {"scores": {"blame": 0.1 + 0.2, "none": None}, "1": [0.5, 3, [1, 2]],
                                            "text": "é ☕"}
    assert json.loads(dump_json({"big": 2 ** 70, "n": np.float64(0.25)})) == {"big": 2 ** 70, "n": 0.25}
    assert json.loads(dump_json({"x": float("nan")})) == {"x": None}  # PostgreSQL's json has no NaN
