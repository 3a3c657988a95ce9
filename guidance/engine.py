"""Guidance for one ticket: risk and why, a summary, advice, replies, and a rewrite.

Plain functions over a normalized ticket and its analysis (models.predict).
Every suggestion and rewrite is scored by the same classifiers before it is
offered; a candidate that still flags blame or deflection, or drops a fact, is
replaced by the next one, and `verification` says what was skipped and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from models.predict import LABEL_INDEX, Analyzer
from models.text import own_text

from . import facts as fact_tools
from .llm import ChatBackend, LLMError
from .partners import recognise
from .phrases import conversation_words, index_of, phrase_fit
from .playbooks import SLOTS, Playbook
from .rewrite import apply, draft_texts, invented_claims, plan_changes
from .scoring import Scorer, Scores
from .summary import advice_for, reasons_for, risk_level, summarise

MAX_SUGGESTIONS = 3
# An order or booking number: "#88231", or a token of capitals and digits with a digit, hyphenated ("4471-22",
# whole: the last part may be short) or of four characters or more; an ISO date is not one.
_REFERENCE = re.compile(r"#\d{3,}\b|(?<![\w-])(?!\d{4}-\d{2}-\d{2}\b)(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]{4,})"
                        r"(?:[A-Z0-9]+(?:-[A-Z0-9]+)+|[A-Z0-9]{4,})\b")
_SLOT = re.compile(r"\{(" + "|".join(SLOTS) + r")\}")


@dataclass
class Context:
    """What guidance needs besides the ticket: the model, playbooks, partners, an optional LLM."""

    analyzer: Analyzer
    playbooks: list[Playbook]
    partners: list[str]
    backend: ChatBackend | None = None
    fallbacks: list[str] = field(default_factory=list)


def guide(ticket: dict, analysis: dict, ctx: Context) -> dict[str, Any]:
    """The guidance for one ticket (the `trustdesk suggest` line)."""
    ctx.fallbacks = []
    text = "\n".join(m["body"] for m in ticket["messages"])
    partners = recognise(text, ctx.partners)
    ranked = rank_playbooks(ctx.playbooks, ticket, analysis, partners)
    slots = fill_slots(ticket, partners)
    # The first batch of suggestions and the draft to rewrite, scored in one classifier call.
    scores = Scores(ctx.analyzer)
    last = ticket["messages"][-1]
    scores.prefetch([own_text(b[2]) for b in _first_replies(_batch(ranked, slots, 0))]
                    + (draft_texts(last["body"]) if last["author_role"] == "agent" else []))
    suggestions = suggest(ranked, slots, ticket, ctx, scores)
    rewrite = rewrite_last(ticket, ctx, scores)
    verified = rewrite.pop("verified") if rewrite else True
    return {
        "id": ticket["id"],
        "risk": risk_level(analysis, ctx.analyzer),
        "reasons": reasons_for(analysis),
        "summary": summarise(ticket, analysis, partners, ranked[0][1] if ranked else None),
        "advice": advice_for(analysis, ranked[0][1] if ranked else None, slots),
        "suggestions": suggestions,
        "rewrite": rewrite,
        "verification": {"passed": bool(suggestions) and verified,
                         "fallbacks": list(ctx.fallbacks)},
    }


def rank_playbooks(playbooks: list[Playbook], ticket: dict, analysis: dict, partners: list[str]) -> list[tuple[float, Playbook]]:
    """Playbooks by fit to this ticket, best first (ties keep file order).

    A playbook fits by its topic: its trigger phrases, by their content words, read in
    what the customer wrote (in every message when the customer wrote none: an agent's
    "was charged $412.50" beside "two kids" is no double charge). Escalation kinds,
    label flags and a partner's name only add to a playbook that fits so, since many
    playbooks name them: a threatened chargeback makes no double-charge ticket an
    account takeover, and a bank-payment reply is no answer to a car booking. Kinds
    count more for playbooks that name few (a specific match); flags break ties. The
    general playbook comes last while fewer fit than suggestions are shown. Within a
    playbook, the replies written for the customer's situation come first.
    """
    words = conversation_words(customer_text(ticket))
    groups = [pb.triggers["phrases"] for pb in playbooks]
    fits = iter(index_of(tuple(p for phrases in groups for p in phrases)).fits(words))
    flags = set(analysis["flags"]) | {f for m in analysis["messages"] for f in m["flags"]}
    kinds = {k["kind"] for k in analysis["escalation_kinds"]} | {k["kind"] for m in analysis["messages"] for k in m["escalation_kinds"]}
    scored = []
    for pb in playbooks:
        t = pb.triggers
        fit = sum(next(fits) for _ in t["phrases"])
        if fit > 0:
            if t["kinds"]:
                fit += 3.0 * len(kinds & set(t["kinds"])) / len(t["kinds"]) ** 0.5
            fit += 0.5 * len(flags & set(t["labels"])) + (1.0 if t["partner_named"] and partners else 0.0)
            scored.append((round(fit, 3), _replies_for(pb, words)))
    scored.sort(key=lambda item: -item[0])
    if len(scored) < MAX_SUGGESTIONS and not any(pb.id == "general" for _, pb in scored):
        scored += [(0.0, pb) for pb in playbooks if pb.id == "general"]
    return scored


def _replies_for(pb: Playbook, words: set[str]) -> Playbook:
    """The playbook with the replies written for this situation (their `when` phrases fit) first, else as filed."""
    ordered = tuple(sorted(pb.replies, key=lambda reply: not any(phrase_fit(p, words) for p in reply.get("when", ()))))
    return pb if ordered == pb.replies else replace(pb, replies=ordered)


def customer_text(ticket: dict) -> str:
    """What the customer wrote, or the whole conversation when the customer wrote nothing."""
    return ("\n".join(m["body"] for m in ticket["messages"] if m["author_role"] == "customer")
            or "\n".join(m["body"] for m in ticket["messages"]))


def fill_slots(ticket: dict, partners: list[str]) -> dict[str, str | None]:
    """Slot values from the ticket; None where the ticket does not say."""
    customer = [m for m in ticket["messages"] if m["author_role"] == "customer"]
    agents = [m for m in ticket["messages"] if m["author_role"] == "agent"]
    requester = ticket.get("requester") or {}
    name = requester.get("name") or next(((m.get("author") or {}).get("name") for m in customer if (m.get("author") or {}).get("name")), None)
    agent = (ticket.get("assignee") or {}).get("name") or next(((m.get("author") or {}).get("name") for m in agents if (m.get("author") or {}).get("name")), None)
    text = customer_text(ticket)
    refs = _REFERENCE.findall(text)
    amounts = re.findall(r"[$£€¥₹]\s?\d[\d,]*(?:\.\d+)?", text)
    return {
        "customer_name": name.split()[0] if name else None, "agent_name": agent.split()[0] if agent else None,
        "partner": partners[0] if partners else None, "reference": refs[0] if refs else None,
        "product": None, "amount": amounts[0] if amounts else None,
    }


def render(template: str, slots: dict[str, str | None]) -> tuple[str, list[str]]:
    """A template with its slots filled; missing values become "[...]" and are listed to confirm."""
    missing: list[str] = []

    def fill(m: re.Match) -> str:
        value = slots.get(m.group(1))
        if value:
            return value
        missing.append(f"the {m.group(1).replace('_', ' ')}")
        return "[...]"

    if not slots.get("customer_name"):
        # No name: greet without one rather than with a gap.
        template = re.sub(r"^(Hi|Hello|Dear) \{customer_name\},", r"\1,", template)
        template = re.sub(r"^\{customer_name\}, (\w)", lambda m: m.group(1).upper(), template)
    text = _SLOT.sub(fill, template)
    return text, list(dict.fromkeys(missing))


def _verdict(scorer: Scorer, text: str) -> tuple[dict[str, float], list[str]]:
    """Scores of a reply as the agent's own words (quotes and signature excluded), and its flags."""
    return _verdicts(scorer, [text])[0]


def _verdicts(scorer: Scorer, texts: list[str]) -> list[tuple[dict[str, float], list[str]]]:
    out = []
    for probs in scorer.score_texts([own_text(t) for t in texts], ["agent"] * len(texts)):
        scores = {name: round(float(probs[j]), 4) for name, j in LABEL_INDEX.items()}
        out.append((scores, [n for n in ("blame", "deflection") if scores[n] >= scorer.thresholds[n]]))
    return out


def _batch(ranked: list[tuple[float, Playbook]], slots: dict, start: int) -> list[tuple]:
    """(playbook, reply, text, missing) for every reply of the playbooks ranked start.. start+3."""
    return [(pb, reply, *render(reply["text"], slots)) for _, pb in ranked[start:start + MAX_SUGGESTIONS]
            for reply in pb.replies]


def _first_replies(batch: list[tuple]) -> list[tuple]:
    """The first reply of each playbook in a batch (the one offered unless it is flagged)."""
    firsts: dict[str, tuple] = {}
    for b in batch:
        firsts.setdefault(b[0].id, b)
    return list(firsts.values())


def suggest(ranked: list[tuple[float, Playbook]], slots: dict, ticket: dict, ctx: Context,
            scorer: Scorer | None = None) -> list[dict]:
    """Up to three verified replies, best-fitting playbook first, one per playbook.

    Replies are scored a few playbooks at a time: the first reply of each in one
    classifier call per batch (a playbook's later replies are scored only when
    its first still reads as blame or deflection); the next batch is scored
    only if too few passed.
    """
    scorer = scorer or ctx.analyzer
    prefetch = getattr(scorer, "prefetch", None)
    out: list[dict] = []
    for start in range(0, min(len(ranked), 4 * MAX_SUGGESTIONS), MAX_SUGGESTIONS):
        batch = _batch(ranked, slots, start)
        chosen = {s["playbook"] for s in out}
        if prefetch is not None:
            prefetch([own_text(b[2]) for b in _first_replies(batch) if b[0].id not in chosen])
        for pb, reply, text, missing in batch:
            if pb.id in chosen or len(out) >= MAX_SUGGESTIONS:
                continue
            scores, flagged = _verdict(scorer, text)
            if flagged:
                ctx.fallbacks.append(f"suggestion from {pb.id} skipped: it still reads as {', '.join(flagged)}")
                continue
            chosen.add(pb.id)
            out.append({"text": text, "playbook": pb.id, "scores": scores, "to_confirm": missing + list(reply["to_confirm"])})
        if len(out) >= MAX_SUGGESTIONS:
            break
    if ctx.backend is not None:
        # One model-written reply, offered second: the best playbook fit stays first.
        out = (out[:1] + _llm_suggestions(ticket, ctx, 1, scorer) + out[1:])[:MAX_SUGGESTIONS]
    return out


def _llm_suggestions(ticket: dict, ctx: Context, n: int, scorer: Scorer) -> list[dict]:
    customer = [m["body"] for m in ticket["messages"] if m["author_role"] == "customer"]
    try:
        replies = ctx.backend.suggest(ticket.get("subject") or "", customer[-1] if customer else "", n)
    except LLMError as exc:
        ctx.fallbacks.append(f"language model unavailable ({exc}); built-in suggestions only")
        return []
    out = []
    history = "\n".join(m["body"] for m in ticket["messages"])
    for text in replies:
        scores, flagged = _verdict(scorer, text)
        claims = invented_claims(history, text)
        if flagged or claims:
            why = f"it still reads as {', '.join(flagged)}" if flagged else f"it claims {', '.join(claims)}"
            ctx.fallbacks.append(f"language-model suggestion skipped: {why}")
            continue
        out.append({"text": text, "playbook": "language-model", "scores": scores,
                    "to_confirm": re.findall(r"\[[^\[\]]+\]", text)})
    return out


def rewrite_last(ticket: dict, ctx: Context, scorer: Scorer | None = None) -> dict | None:
    """The rewrite of the last message when it is the agent's (None otherwise)."""
    last = ticket["messages"][-1]
    if last["author_role"] != "agent":
        return None
    scorer = scorer or Scores(ctx.analyzer)
    body = last["body"]
    changes, notes = plan_changes(body, scorer, ctx.partners)
    ctx.fallbacks.extend(f"rewrite: {note}" for note in notes)
    text = apply(body, changes)
    if ctx.backend is not None and (changes or notes):
        text, changes = _llm_rewrite(body, text, changes, ctx, scorer)
    scores, flagged = _verdict(scorer, text)
    lost = fact_tools.missing(body, text, ctx.partners)
    verified = not flagged and not lost
    if not verified:
        ctx.fallbacks.append(f"rewrite not offered: {'still reads as ' + ', '.join(flagged) if flagged else ''}"
                             f"{'; ' if flagged and lost else ''}{'drops ' + ', '.join(lost) if lost else ''}")
        text, changes = body, []
    return {
        "original": body, "text": text,
        "changes": [{"start": c.start, "end": c.end, "before": c.before, "after": c.after, "reason": c.reason} for c in changes],
        "to_confirm": list(dict.fromkeys(item for c in changes for item in c.to_confirm)),
        "scores": scores if verified else _verdict(scorer, body)[0], "verified": verified,
    }


def _llm_rewrite(body: str, built_in: str, changes: list, ctx: Context, scorer: Scorer) -> tuple[str, list]:
    """Prefer the language model's rewrite when it passes the same checks; else the built-in one."""
    try:
        candidate = ctx.backend.rewrite(body, fact_tools.extract(body, ctx.partners))
    except LLMError as exc:
        ctx.fallbacks.append(f"language model unavailable ({exc}); built-in rewrite used")
        return built_in, changes
    _, flagged = _verdict(scorer, candidate)
    lost = fact_tools.missing(body, candidate, ctx.partners)
    claims = invented_claims(body, candidate)
    if flagged or lost or claims:
        why = ", ".join(flagged) or ("drops " + ", ".join(lost) if lost else "claims " + ", ".join(claims))
        ctx.fallbacks.append("language-model rewrite skipped: " + why)
        return built_in, changes
    from .rewrite import SentenceChange

    return candidate, [SentenceChange(0, len(body), body, candidate, "language-model rewrite", re.findall(r"\[[^\[\]]+\]", candidate))]
