"""Shared fixtures: the shipped model, loaded once, and small ticket helpers."""

from __future__ import annotations

import pytest

from models.predict import Analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The shipped default model (loading verifies its manifest)."""
    return Analyzer.load()


def one_message(body: str, role: str = "customer", **extra) -> dict:
    """A valid one-message normalized ticket."""
    return {"id": "t1", "messages": [{"author_role": role, "body": body, **extra}]}


@pytest.fixture
def classify_one(analyzer):
    """Analyse one message and return its message-level result."""
    from models.ticket import load_ticket

    def run(body: str, role: str = "customer") -> dict:
        return analyzer.analyze(load_ticket(one_message(body, role)))["messages"][0]

    return run


# --- real database servers ------------------------------------------------------

import os
import uuid

POSTGRES_URL = os.environ.get("TRUSTDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# CI sets this so a missing server fails the run instead of skipping its tests.
REQUIRE_SERVICES = os.environ.get("TRUSTDESK_REQUIRE_SERVICES") == "1"


def _postgres_or_skip():
    from sqlalchemy import text

    from plugin.storage import make_engine

    try:
        with make_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means: no server here
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__}); set TRUSTDESK_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database on each engine we support (PostgreSQL in its own schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trustdesk.db'}"
        return
    _postgres_or_skip()
    from sqlalchemy import text

    from plugin.storage import make_engine

    schema = f"td_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


REDIS_URL = os.environ.get("TRUSTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    """A real Redis (database 15 by default), or a skip that says why."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure to connect means: no server here
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis required but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); set TRUSTDESK_TEST_REDIS_URL")
    return REDIS_URL
