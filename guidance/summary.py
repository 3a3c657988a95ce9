"""What is going on in a ticket, in words an agent reads in seconds.

Risk level, the reasons behind it (the flagged spans and history signals the
classifiers found), a one-paragraph summary and short do/avoid advice.
"""

from __future__ import annotations

from typing import Any

from models.predict import Analyzer

from .playbooks import Playbook

_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}
_KIND_WORDS = {
    "public": "mentions going public", "legal": "mentions legal or regulatory action",
    "chargeback": "mentions a chargeback", "churn": "talks about leaving", "manager": "asks for a manager",
    "repeat_contact": "has had to come back about this",
}


def risk_level(analysis: dict, analyzer: Analyzer) -> str:
    """high: escalation flagged; medium: any flag, or escalation at half its threshold; low otherwise."""
    flags = set(analysis["flags"]) | {f for m in analysis["messages"] for f in m["flags"]}
    risk = analysis["scores"].get("escalation_risk") or 0.0
    if "escalation_risk" in analysis["flags"]:
        return "high"
    if flags or risk >= analyzer.threshold_for("escalation_risk") / 2:
        return "medium"
    return "low"


def reasons_for(analysis: dict) -> list[dict[str, Any]]:
    """Flagged spans and escalation evidence, each with where it is."""
    reasons = []
    for m in analysis["messages"]:
        for span in m["spans"]:
            reasons.append({"label": span["label"], "evidence": span["text"], "start": span["start"], "end": span["end"],
                            "message_index": m["index"]})
    for kind in analysis["escalation_kinds"]:
        if kind.get("message_index") is None:  # history signals have no span
            reasons.append({"label": f"escalation_risk:{kind['kind']}", "evidence": kind["evidence"], "start": None,
                            "end": None, "message_index": None})
    return reasons


def _contact_count(ticket: dict) -> int:
    history = ticket.get("history") or {}
    customer = sum(1 for m in ticket["messages"] if m["author_role"] == "customer")
    return customer + int(history.get("prior_contacts") or 0)


def _days(ticket: dict) -> float | None:
    times = [m["created_at"] for m in ticket["messages"] if m.get("created_at")]
    history_days = (ticket.get("history") or {}).get("days_open") or 0
    span = (max(times) - min(times)).total_seconds() / 86400 if len(times) > 1 else 0
    days = max(span, history_days)
    return days if days >= 1 else None


def summarise(ticket: dict, analysis: dict, partners: list[str], playbook: Playbook | None) -> str:
    """One paragraph: which contact, how long, about what, what the customer signals, what we said."""
    count = _contact_count(ticket)
    days = _days(ticket)
    topic = playbook.title[0].lower() + playbook.title[1:] if playbook and playbook.id != "general" else "this issue"
    kinds = [k["kind"] for k in analysis["escalation_kinds"]]
    # One message that says "third time writing" is no first contact, though no history came with it.
    which = "repeat" if count == 1 and "repeat_contact" in kinds else _ORDINAL.get(count, f"{count}th")
    first = f"{which} contact" + (f" in {days:.0f} days" if days else "") + f" about {topic}"
    if partners:
        first += f" (involving {', '.join(partners[:2])})"
    parts = [first]
    if kinds:
        parts.append("the customer " + " and ".join(_KIND_WORDS[k] for k in kinds))
    if analysis["customer"].get("blame") is not None and "blame" in _customer_flags(analysis):
        parts.append("they hold us responsible")
    agent_flags = [f for f in ("deflection", "blame") if f in analysis["flags"]]
    if agent_flags:
        parts.append("our replies so far read as " + " and ".join(agent_flags))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _customer_flags(analysis: dict) -> set[str]:
    return {f for m in analysis["messages"] if m["author_role"] == "customer" for f in m["flags"]}


def advice_for(analysis: dict, playbook: Playbook | None, slots: dict) -> list[dict[str, str]]:
    """Short do/avoid advice: the playbook's, then what the flags call for."""
    advice: list[dict[str, str]] = []
    for item in playbook.advice if playbook else ():
        text = item["text"]
        for name, value in slots.items():
            text = text.replace("{" + name + "}", value or ("the partner" if name == "partner" else "the customer"))
        advice.append({"kind": item["kind"], "text": text})
    if "deflection" in analysis["flags"]:
        advice.append({"kind": "avoid", "text": "Sending the customer to someone else: say what you will do and by when."})
    if "blame" in analysis["flags"]:
        advice.append({"kind": "avoid", "text": "Pointing out what the customer did wrong: state the problem as one we share."})
    if "escalation_risk" in analysis["flags"]:
        advice.append({"kind": "do", "text": "Acknowledge how long this has taken and give one owner and one date."})
    seen, out = set(), []
    for item in advice:
        if item["text"] not in seen:
            seen.add(item["text"])
            out.append(item)
    return out
