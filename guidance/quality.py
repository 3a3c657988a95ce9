"""How well rewrites work: every flagged agent message of the held-out split, rewritten.

The product's promise is that a rewrite clears blame and deflection and keeps
every fact; this measures the share of flagged held-out agent messages for
which that holds, and keeps the pairs for a person to judge.
"""

from __future__ import annotations

from typing import Any

from models.corpus import DATA_DIR, load_messages, message_files
from models.predict import Analyzer
from models.ticket import load_ticket
from models.train import split_corpus

from . import partners, playbooks
from .engine import Context, rewrite_last


def flagged_agent_messages(analyzer: Analyzer, data_dir=DATA_DIR) -> list[str]:
    """Held-out agent messages that the model flags for blame or deflection."""
    examples = load_messages(message_files(data_dir))
    held, _ = split_corpus(examples)
    agents = [e.text for e, h in zip(examples, held) if h and e.role == "agent"]
    tickets = [load_ticket({"id": str(i), "messages": [{"author_role": "agent", "body": t}]}) for i, t in enumerate(agents)]
    return [t for t, a in zip(agents, analyzer.analyze_many(tickets)) if {"blame", "deflection"} & set(a["flags"])]


def rewrite_report(analyzer: Analyzer, data_dir=DATA_DIR) -> dict[str, Any]:
    """Share of flagged held-out agent messages whose rewrite is verified, with the pairs."""
    ctx = Context(analyzer, playbooks.load_dir(), partners.configured({}))
    pairs = []
    for body in flagged_agent_messages(analyzer, data_dir):
        ticket = load_ticket({"id": "r", "messages": [{"author_role": "agent", "body": body}]})
        result = rewrite_last(ticket, ctx)
        pairs.append({"before": body, "after": result["text"], "verified": result["verified"],
                      "fallbacks": list(ctx.fallbacks), "to_confirm": result["to_confirm"]})
        ctx.fallbacks = []
    verified = sum(p["verified"] for p in pairs)
    return {"flagged": len(pairs), "verified": verified,
            "rate": round(verified / len(pairs), 4) if pairs else None, "pairs": pairs}
