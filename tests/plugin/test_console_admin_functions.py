"""The plain functions behind the trends and admin pages: trends, feedback to training data, playbooks, curves, shadow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from guidance.playbooks import DEFAULT_DIR, PlaybookError
from models.corpus import parse_message
from plugin import curves, integration_status, playbook_files, shadow, training, trends
from plugin.storage import (Analysis, Feedback, GuidanceGiven, Message, ModelVersion, Ticket, WebhookEvent, WriteBack,
                            make_engine, session_factory, upgrade)
from plugin.versions import VersionError

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=timezone.utc)  # a Wednesday
THRESHOLDS = {"blame": 0.5, "deflection": 0.5, "escalation_risk": 0.5, "ticket_escalation_risk": 0.5}


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def _analysis(blame=0.0, deflection=0.0, escalation=0.0, messages=None):
    return {"scores": {"blame": blame, "deflection": deflection, "escalation_risk": escalation}, "flags": [],
            "escalation_kinds": [], "messages": messages or []}


def _ticket(session, external_id, agent="Robin", team="Rentals", bodies=("Where is my car?", "Please contact Expedia.")):
    ticket = Ticket(source="generic", external_id=external_id, assignee_name=agent, assignee_team=team)
    session.add(ticket)
    session.flush()
    for i, body in enumerate(bodies):
        session.add(Message(ticket_id=ticket.id, position=i, author_role=("customer", "agent")[i % 2], body=body))
    return ticket


def test_week_of_is_the_monday():
    assert trends.week_of(NOW).isoformat() == "2026-03-16"
    assert [w.isoformat() for w in trends.week_starts(3, NOW)] == ["2026-03-02", "2026-03-09", "2026-03-16"]


def test_trends_per_week_team_and_agent_follow_the_thresholds(session):
    a = _ticket(session, "A")
    b = _ticket(session, "B", agent="Alex", team="Billing")
    c = _ticket(session, "C", agent="Alex", team="Billing")
    session.add_all([
        Analysis(ticket_id=a.id, model_version="v", result=_analysis(deflection=0.9), created_at=NOW - timedelta(days=8)),
        Analysis(ticket_id=a.id, model_version="v", result=_analysis(deflection=0.2), created_at=NOW - timedelta(days=7)),
        Analysis(ticket_id=b.id, model_version="v", result=_analysis(blame=0.7, escalation=0.8), created_at=NOW),
        Analysis(ticket_id=c.id, model_version="v", result=_analysis(blame=0.4), created_at=NOW),
    ])
    session.flush()
    data = trends.trends(session, THRESHOLDS, weeks=3, now=NOW)
    assert data["weeks"] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    # Last week, ticket A's latest analysis no longer flags deflection.
    assert data["overall"]["tickets"] == [0, 1, 2]
    assert data["overall"]["deflection_rate"] == [None, 0.0, 0.0]
    assert data["overall"]["blame_rate"] == [None, 0.0, 0.5]
    assert data["overall"]["escalations"] == [0, 0, 1]
    assert data["teams"]["Billing"]["blame_rate"] == [None, None, 0.5]
    assert data["agents"][0] == {"name": "Alex", "tickets": 2, "blame_rate": 0.5, "deflection_rate": 0.0, "escalations": 1}
    stricter = trends.trends(session, {**THRESHOLDS, "blame": 0.3}, weeks=3, now=NOW)
    assert stricter["overall"]["blame_rate"][-1] == 1.0


def test_share_of_suggestions_used(session):
    a, b = _ticket(session, "A"), _ticket(session, "B")
    for t in (a, b):
        analysis = Analysis(ticket_id=t.id, model_version="v", result=_analysis(), created_at=NOW)
        session.add(analysis)
        session.flush()
        session.add(GuidanceGiven(ticket_id=t.id, analysis_id=analysis.id, payload={"suggestions": [{"text": "x"}]},
                                  created_at=NOW))
    session.add(Feedback(ticket_id=a.id, kind="suggestion_edited", value={}, created_at=NOW))
    session.add(Feedback(ticket_id=b.id, kind="suggestion_dismissed", value={}, created_at=NOW))
    session.flush()
    used = trends.suggestion_use(session, trends.week_starts(1, NOW))
    assert used == {"offered": [2], "used": [1], "share": [0.5]}


def test_confirmed_and_wrong_flags_become_valid_corpus_lines(session):
    t = _ticket(session, "A", bodies=("I will sue you and post this everywhere.", "Please contact Expedia, not us."))
    messages = [{"index": 0, "flags": ["escalation_risk"], "escalation_kinds": [{"kind": "legal"}, {"kind": "public"}]},
                {"index": 1, "flags": ["deflection", "blame"], "escalation_kinds": []}]
    session.add(Analysis(ticket_id=t.id, model_version="v", result=_analysis(messages=messages)))
    session.add(Feedback(ticket_id=t.id, kind="flag_confirmed", value={"label": "escalation_risk", "message_index": None}))
    session.add(Feedback(ticket_id=t.id, kind="flag_wrong", value={"label": "blame", "message_index": 1}))
    session.add(Feedback(ticket_id=t.id, kind="flag_confirmed", value={"label": "deflection", "message_index": 1}))
    session.flush()
    lines = training.feedback_examples(session)
    by_id = {line["id"]: line for line in lines}
    first, second = by_id[f"feedback-{t.id}-0"], by_id[f"feedback-{t.id}-1"]
    assert (first["escalation"], first["kinds"], first["role"]) == (1, ["legal", "public"], "customer")
    assert (second["blame"], second["deflection"], second["escalation"]) == (0, 1, 0)
    for line in lines:
        parse_message(line, line["id"])  # the corpus loader accepts them


def test_build_corpus_adds_the_feedback_file(tmp_path):
    source = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_corpus"
    line = {"id": "feedback-1-0", "text": "You should have read the terms.", "role": "agent", "blame": 1, "deflection": 0,
            "escalation": 0, "kinds": []}
    built = training.build_corpus(source, [line], tmp_path / "corpus")
    from models.corpus import load_messages, message_files

    loaded = load_messages(message_files(built))
    assert loaded[-1].id == "feedback-1-0" and len(loaded) > 100


def test_playbook_overrides_validate_save_and_revert(tmp_path):
    shipped = (DEFAULT_DIR / "general.toml").read_text()
    with pytest.raises(PlaybookError, match="title"):
        playbook_files.validate("general", shipped.replace("title =", "titel =", 1))
    with pytest.raises(PlaybookError, match="must equal the file name"):
        playbook_files.validate("general-two", shipped)
    with pytest.raises(playbook_files.PlaybookInputError):
        playbook_files.read(tmp_path, "../secrets")
    edited = shipped.replace('title = "', 'title = "Edited ', 1)
    playbook_files.save(tmp_path, "general", edited)
    assert playbook_files.read(tmp_path, "general") == edited
    assert next(p for p in playbook_files.listing(tmp_path) if p["name"] == "general")["edited"]
    assert any(p.title.startswith("Edited") for p in playbook_files.effective(tmp_path))
    assert playbook_files.revert(tmp_path, "general") and not playbook_files.revert(tmp_path, "general")
    assert playbook_files.read(tmp_path, "general") == shipped


def test_a_broken_edited_playbook_falls_back_to_the_shipped_set(tmp_path):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "general.toml").write_text("not = [toml")
    assert len(playbook_files.effective(tmp_path)) == len(list(DEFAULT_DIR.glob("*.toml")))


def test_preview_runs_the_playbook_on_a_sample(analyzer):
    from guidance.engine import Context
    from guidance.playbooks import load_dir

    playbooks = load_dir()
    ctx = Context(analyzer, playbooks, ["Expedia"])
    marketplace = next(p for p in playbooks if p.id == "marketplace-partner")
    result = playbook_files.preview(ctx, marketplace, 0)
    assert result["fit"] > 0 and result["used"] and result["guidance"]["suggestions"]
    with pytest.raises(playbook_files.PlaybookInputError):
        playbook_files.preview(ctx, marketplace, 99)


def test_curve_points():
    y, p = np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1])
    at = {pt["threshold"]: pt for pt in curves.points(y, p)}
    assert at[0.5] == {"threshold": 0.5, "precision": 0.5, "recall": 0.5, "flagged": 0.5}
    assert at[0.95]["precision"] == 1.0 and at[0.95]["recall"] == 0.0
    assert curves.at(curves.points(y, p), 0.304)["threshold"] == 0.3


@pytest.mark.slow
def test_curve_is_computed_once_and_cached(tmp_path):
    from models.store import DEFAULT_MODEL_DIR

    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_corpus"
    found = curves.curve(tmp_path, "shipped", str(DEFAULT_MODEL_DIR), corpus, background=False)
    assert set(found["labels"]) == {"blame", "deflection", "escalation_risk", "ticket_escalation_risk"}
    assert curves.cache_path(tmp_path, "shipped", corpus).is_file()
    assert curves.curve(tmp_path, "shipped", "/nonexistent", corpus) == found  # from the cache


def test_shadow_compares_flags_and_reports_agreement(session, analyzer):
    from models.store import DEFAULT_MODEL_DIR

    session.add(ModelVersion(version=analyzer.version, path=str(DEFAULT_MODEL_DIR), manifest={}))
    session.add(ModelVersion(version="other", path="/nowhere", manifest={}))
    t = _ticket(session, "A", bodies=("Where is my car?", "Expedia is an independent third party, please contact Expedia."))
    stored = Analysis(ticket_id=t.id, model_version="old", result={**_analysis(), "flags": ["blame"]})
    session.add(stored)
    session.flush()
    row = shadow.compare(session, stored, analyzer.version)
    assert row.active_flags == ["blame"] and "deflection" in row.candidate_flags and not row.agree
    assert shadow.compare(session, stored, analyzer.version) is None  # once per analysis
    report = shadow.report(session, analyzer.version)
    assert report["n"] == 1 and report["agreement"] == 0.0
    assert report["labels"]["deflection"] == {"both": 0, "only_active": 0, "only_candidate": 1}
    with pytest.raises(VersionError):
        shadow.set_candidate(session, "missing", "test")
    with pytest.raises(VersionError, match="cannot activate"):
        shadow.set_candidate(session, "other", "test")


def test_integration_overview(session):
    class Adapter:
        def __init__(self, secret, writes):
            self.secret, self.can_write_back = secret, writes

    session.add(WebhookEvent(source="generic", event_id="e1", body_sha256="a" * 64))
    session.add(WriteBack(source="generic", event_id="e1", status="dead", attempts=8, last_error="boom"))
    session.add(WriteBack(source="generic", event_id="e2", status="pending", attempts=2, last_error="slow"))
    session.flush()
    rows = integration_status.overview(session, {"generic": Adapter("s", True), "zendesk": Adapter(None, False)})
    generic, zendesk = rows
    assert (generic["state"], generic["dead"], generic["retrying"], generic["webhooks_7d"]) == ("ready", 1, 1, 1)
    assert generic["last_webhook"] is not None and generic["last_error"] in ("boom", "slow")
    assert (zendesk["state"], zendesk["last_webhook"]) == ("not configured", None)


def test_a_saved_playbook_reaches_every_process_through_its_revision(tmp_path):
    """Saved in one worker, the edit is used by another (a web worker, the job consumer) at its next refresh."""
    from pathlib import Path

    from plugin import playbook_files, runtime
    from plugin.app import create_app
    from plugin.services import services

    config = {"TESTING": True, "data_dir": str(tmp_path / "var")}
    first, second = create_app(config), create_app(config)
    shipped = Path(playbook_files.__file__).resolve().parents[1] / "guidance" / "playbooks" / "general.toml"
    edited = shipped.read_text(encoding="utf-8").replace('title = "', 'title = "Edited: ', 1)
    with first.app_context():
        playbook_files.save(services().settings.data_dir, "general", edited)
        with services().sessions.begin() as session:
            runtime.write_setting(session, runtime.PLAYBOOKS, {"changed": "general"}, "admin", audit=False)
    with second.app_context():
        before = {p.id: p.title for p in services().guidance.playbooks}
        runtime.refresh(services(), force=True)
        after = {p.id: p.title for p in services().guidance.playbooks}
    assert not before["general"].startswith("Edited: ") and after["general"].startswith("Edited: ")
