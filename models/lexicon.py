"""A keyword-lexicon baseline, the yardstick the learned models must clearly beat.

This is what a team would write in an afternoon: phrase lists per label. The
evaluation reports it beside the model on the same split, so the value of the
model over keywords is measured rather than claimed.
"""

from __future__ import annotations

import re

_PATTERNS = {
    ("blame", "agent"): [
        r"as i (already )?(explained|said|mentioned|stated)", r"per my (last|previous)", r"you should have",
        r"you (didn't|did not|failed to|forgot to)", r"user error", r"your (own )?fault", r"you entered",
        r"as stated", r"if you had", r"you need to read", r"clearly states",
    ],
    ("blame", "customer"): [
        r"incompetent", r"you people", r"your (fault|staff|mistake|incompetence)", r"useless", r"you (lost|broke|ruined|damaged)",
        r"you (guys )?(don't|do not|never) care", r"pathetic", r"joke of a company", r"liars?", r"scam",
    ],
    ("deflection", "agent"): [
        r"third[- ]party", r"not affiliated", r"(please )?contact (them|the|your)", r"reach out to (the|your)",
        r"outside (of )?our control", r"nothing (more )?we can do", r"not (our|something we) (responsibility|handle)",
        r"take (it|that|this) up with", r"another (team|department)", r"not responsible",
    ],
    ("deflection", "customer"): [
        r"transferred", r"told me to (call|contact) you", r"run[- ]?around", r"pointing fingers",
        r"(keep|kept) (sending|passing|bouncing) me", r"back and forth",
    ],
    ("escalation", "agent"): [r"chargeback", r"(fourth|third|fifth) (time|contact)"],
    ("escalation", "customer"): [
        r"lawyer", r"attorney", r"\bsue\b", r"small claims", r"court", r"ombudsman", r"regulator", r"\bbbb\b",
        r"chargeback", r"dispute (the|this) (charge|payment)", r"cancel my (account|subscription|plan|membership)",
        r"switch(ing)? to", r"never (again|ordering|buying|using)", r"manager", r"supervisor", r"\bceo\b",
        r"(third|fourth|fifth|3rd|4th|5th) (time|email|call)", r"still waiting", r"review", r"youtube",
        r"twitter", r"social media", r"the press", r"close my account", r"lost a customer",
    ],
}
_COMPILED = {key: re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE) for key, pats in _PATTERNS.items()}


def lexicon_scores(text: str, role: str) -> dict[str, float]:
    """1.0 for each label whose phrase list matches the text for this role, else 0.0."""
    role = role if role in ("agent", "customer") else "customer"
    return {
        label: float(bool(_COMPILED[(label, role)].search(text)))
        for label in ("blame", "deflection", "escalation")
    }
