"""Ticket endpoints: analyze, check a draft, latest guidance, feedback; and customers at risk."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from guidance.engine import guide
from models.ticket import TicketError, load_ticket

from .. import drafts, ledger, runtime
from ..schemas import (AnalyzeRequest, AnalyzeResponse, AtRiskQuery, AtRiskResponse, OrganizationsAtRiskResponse, DraftCheckRequest, DraftCheckResponse,
                       FeedbackRequest, FeedbackResponse, TicketGuidanceResponse)
from ..services import services
from ..storage import Analysis, Feedback, GuidanceGiven, Message
from . import ApiError, actor, bp, endpoint


@bp.post("/analyze")
@endpoint("agent", body=AnalyzeRequest, response=AnalyzeResponse, errors=(400, 422))
def analyze(data: dict):
    """Analysis and guidance for a normalized ticket (nothing is stored)."""
    try:
        ticket = load_ticket(data)
    except TicketError as exc:
        raise ApiError(422, "invalid ticket", str(exc)) from None
    s = services()
    ctx = dataclasses.replace(s.guidance, fallbacks=[])
    analysis = s.analyzer.analyze(ticket)
    return {"analysis": analysis, "guidance": guide(ticket, analysis, ctx)}


def _not_found(source: str, ticket_id: str) -> ApiError:
    return ApiError(404, "not found", f"no stored ticket {ticket_id!r} from {source!r}")


@bp.post("/tickets/<source>/<ticket_id>/draft-check")
@endpoint("agent", body=DraftCheckRequest, response=DraftCheckResponse, errors=(400, 404, 422))
def draft_check(source: str, ticket_id: str, data: dict):
    """Scores and flags of a draft as the ticket's next agent message, and a rewrite when it is flagged."""
    s = services()
    analyzer = s.analyzer  # one analyzer for the whole check, even if another request swaps it meanwhile
    with s.sessions() as session:
        found = drafts.find_ticket(session, source, ticket_id)
        if found is None:
            raise _not_found(source, ticket_id)
        context = drafts.context_for(session, analyzer, *found)
    result = drafts.check(analyzer, s.guidance, context, data["draft"], data["rewrite"])
    return {"ticket": {"source": source, "id": ticket_id}, **result}


@bp.get("/tickets/<source>/<ticket_id>/guidance")
@endpoint("agent", response=TicketGuidanceResponse, errors=(404,))
def ticket_guidance(source: str, ticket_id: str):
    """The ticket's latest analysis and guidance, flags recomputed from stored scores and the current thresholds."""
    s = services()
    with s.sessions() as session:
        found = drafts.find_ticket(session, source, ticket_id)
        if found is None:
            raise _not_found(source, ticket_id)
        ticket, analysis_id = found
        if analysis_id is None:
            raise ApiError(404, "not found", f"ticket {ticket_id!r} has not been analysed yet")
        stored = session.get(Analysis, analysis_id)
        given = session.scalars(select(GuidanceGiven).where(GuidanceGiven.analysis_id == analysis_id)).first()
        thresholds = runtime.current_thresholds(session, s.analyzer)
    analysis = runtime.flags_for(stored.result, thresholds)
    advice = dict(given.payload) if given else {}
    if advice:
        advice["risk"] = runtime.risk_for(analysis, thresholds)
        advice["reasons"] = [r for r in advice.get("reasons") or []
                             if str(r.get("label", "")).split(":")[0] in _flagged(analysis)]
    return {"ticket": {"source": source, "id": ticket_id}, "analyzed_at": stored.created_at,
            "model_version": stored.model_version, "thresholds": thresholds, "analysis": analysis, "guidance": advice}


def _flagged(analysis: dict) -> set[str]:
    return set(analysis["flags"]) | {f for m in analysis["messages"] for f in m["flags"]}


@bp.post("/tickets/<source>/<ticket_id>/feedback")
@endpoint("agent", body=FeedbackRequest, response=FeedbackResponse, status=201, errors=(400, 404, 422))
def feedback(source: str, ticket_id: str, data: dict):
    """Record what the agent did with a suggestion (used, edited, dismissed) or a flag (confirmed, wrong)."""
    s = services()
    with s.sessions.begin() as session:
        found = drafts.find_ticket(session, source, ticket_id)
        if found is None:
            raise _not_found(source, ticket_id)
        ticket = found[0]
        index = data.get("message_index")
        if index is not None and session.scalar(
                select(Message.id).where(Message.ticket_id == ticket.id, Message.position == index)) is None:
            raise validated_error("message_index", f"the ticket has no message {index}")
        value = {k: data.get(k) for k in ("label", "message_index", "text")}
        row = Feedback(ticket_id=ticket.id, kind=data["kind"], value=value, actor=actor())
        session.add(row)
        session.flush()
        return {"id": row.id, "kind": row.kind, **value, "actor": row.actor, "created_at": row.created_at}


def validated_error(field: str, message: str) -> ApiError:
    """A 422 naming one field."""
    return ApiError(422, "invalid request", f"{field}: {message}", {field: [message]})


@bp.get("/customers/at-risk")
@endpoint("lead", query=AtRiskQuery, response=AtRiskResponse, errors=(422,))
def customers_at_risk(params: dict):
    """Customers by trust (worst first) or by value at risk: ?sort=risk|value&limit=N."""
    s = services()
    default_value = ledger.average_value(s.settings.extra)
    with s.sessions() as session:
        rows = ledger.at_risk(session, default_value, params["sort"], params["limit"])
    return {"customers": [row.__dict__ for row in rows]}


@bp.get("/organizations/at-risk")
@endpoint("lead", query=AtRiskQuery, response=OrganizationsAtRiskResponse, errors=(422,))
def organizations_at_risk(params: dict):
    """Organisations by trust (worst first) or by value at risk: ?sort=risk|value&limit=N."""
    s = services()
    default_value = ledger.average_value(s.settings.extra)
    with s.sessions() as session:
        rows = ledger.organizations_at_risk(session, default_value, params["sort"], params["limit"])
    return {"organizations": [row.__dict__ for row in rows]}
