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
