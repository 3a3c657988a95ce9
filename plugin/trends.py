"""Week-by-week figures for the trends page: blame and deflection rates, escalations, suggestions used.

A ticket counts once per week in which it was analysed (its latest analysis of
that week), with its flags recomputed from the stored scores and the thresholds
in force, so the charts move when an admin moves a threshold. Rates are shares
of the tickets analysed that week; agents and teams are the ticket's assignee.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .runtime import flags_for
from .storage import Analysis, Feedback, GuidanceGiven, Ticket, as_utc

USED_KINDS = ("suggestion_used", "suggestion_edited")
UNASSIGNED = "(unassigned)"
MAX_WEEKS = 52


def week_of(moment: datetime) -> date:
    """The Monday starting the ISO week of a moment (UTC)."""
    day = as_utc(moment).date()
    return day - timedelta(days=day.weekday())


def week_starts(weeks: int, now: datetime | None = None) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first, this week included."""
    this_week = week_of(now or datetime.now(timezone.utc))
    return [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def ticket_weeks(session: Session, thresholds: dict[str, float], since: date) -> list[dict[str, Any]]:
    """One row per (ticket, week) analysed since `since`: week, agent, team, and which labels its latest analysis flags."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=timezone.utc)
    rows = session.execute(select(Analysis.ticket_id, Analysis.created_at, Analysis.result, Ticket.assignee_name,
                                  Ticket.assignee_team).join(Ticket, Ticket.id == Analysis.ticket_id)
                           .where(Analysis.created_at >= start).order_by(Analysis.id)).all()
    latest: dict[tuple[int, date], dict[str, Any]] = {}
    for ticket_id, created_at, result, agent, team in rows:
        flags = set(flags_for(result, thresholds)["flags"])
        latest[(ticket_id, week_of(created_at))] = {
            "ticket_id": ticket_id, "week": week_of(created_at), "agent": agent or UNASSIGNED, "team": team or UNASSIGNED,
            "blame": "blame" in flags, "deflection": "deflection" in flags, "escalation": "escalation_risk" in flags}
    return list(latest.values())


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def series(rows: list[dict[str, Any]], weeks: list[date]) -> dict[str, list]:
    """Per week: tickets, blame rate, deflection rate, escalations (rates None for a week without tickets)."""
    by_week: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_week[row["week"]].append(row)
    out: dict[str, list] = {"tickets": [], "blame_rate": [], "deflection_rate": [], "escalations": []}
    for week in weeks:
        found = by_week.get(week, [])
        out["tickets"].append(len(found))
        out["blame_rate"].append(_rate(sum(r["blame"] for r in found), len(found)))
        out["deflection_rate"].append(_rate(sum(r["deflection"] for r in found), len(found)))
        out["escalations"].append(sum(r["escalation"] for r in found))
    return out


def by_group(rows: list[dict[str, Any]], key: str, weeks: list[date]) -> dict[str, dict[str, list]]:
    """The weekly series of each agent or team (key "agent" or "team"), busiest first."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return {name: series(found, weeks) for name, found in ordered}


def totals(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Over the whole period, per agent or team: tickets, blame and deflection rates, escalations."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    out = [{"name": name, "tickets": len(found), "blame_rate": _rate(sum(r["blame"] for r in found), len(found)),
            "deflection_rate": _rate(sum(r["deflection"] for r in found), len(found)),
            "escalations": sum(r["escalation"] for r in found)} for name, found in groups.items()]
    return sorted(out, key=lambda item: (-item["tickets"], item["name"]))


def suggestion_use(session: Session, weeks: list[date]) -> dict[str, list]:
    """Per week: tickets offered suggestions, how many of them had one used (as is or edited), and the share."""
    start = datetime.combine(weeks[0], datetime.min.time(), tzinfo=timezone.utc)
    offered: dict[date, set[int]] = defaultdict(set)
    for ticket_id, created_at, payload in session.execute(
            select(GuidanceGiven.ticket_id, GuidanceGiven.created_at, GuidanceGiven.payload)
            .where(GuidanceGiven.created_at >= start)):
        if (payload or {}).get("suggestions"):
            offered[week_of(created_at)].add(ticket_id)
    used: dict[date, set[int]] = defaultdict(set)
    for ticket_id, created_at in session.execute(select(Feedback.ticket_id, Feedback.created_at)
                                                 .where(Feedback.kind.in_(USED_KINDS), Feedback.created_at >= start)):
        used[week_of(created_at)].add(ticket_id)
    ever_offered = set().union(*offered.values()) if offered else set()
    out: dict[str, list] = {"offered": [], "used": [], "share": []}
    for week in weeks:
        took = len(used[week] & ever_offered)  # a suggestion offered one week may be used the next
        out["offered"].append(len(offered[week]))
        out["used"].append(took)
        out["share"].append(_rate(took, len(offered[week])))
    return out


def trends(session: Session, thresholds: dict[str, float], weeks: int = 12, now: datetime | None = None) -> dict[str, Any]:
    """Everything the trends page draws, for the last `weeks` weeks."""
    weeks = max(1, min(int(weeks), MAX_WEEKS))
    starts = week_starts(weeks, now)
    rows = ticket_weeks(session, thresholds, starts[0])
    return {"weeks": [w.isoformat() for w in starts], "overall": series(rows, starts),
            "teams": by_group(rows, "team", starts), "agents": totals(rows, "agent"), "team_totals": totals(rows, "team"),
            "suggestions": suggestion_use(session, starts)}
