"""Partner and third-party names: configured per deployment, and recognised in text.

Deflection usually names someone else ("please contact Expedia"); an owned
reply must name the same partner ("I'll contact Expedia myself"). Deployments
list their own partners; common ones are known out of the box, and names in
referral phrases are recognised even when nobody configured them.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterable, Mapping

COMMON_PARTNERS = (
    "Expedia", "Booking.com", "Hotels.com", "Airbnb", "Vrbo", "Trip.com", "Kayak", "Priceline", "Agoda",
    "Amazon", "eBay", "Etsy", "Walmart", "Shopify", "AliExpress", "UPS", "FedEx", "DHL", "USPS", "Royal Mail",
    "DPD", "Evri", "Hermes", "Parcelforce", "Yodel", "Canada Post", "Australia Post", "PayPal", "Klarna",
    "Afterpay", "Stripe", "Visa", "Mastercard", "American Express", "Apple", "App Store", "Google Play",
    "Google", "Microsoft", "Samsung", "Sony", "Uber", "Uber Eats", "Deliveroo", "DoorDash", "Just Eat",
    "Grubhub", "Instacart", "Openreach", "Ticketmaster",
)
_REFERRAL = re.compile(
    r"(?:contact|reach out to|get in touch with|speak to|speak with|take (?:it|this|that) up with|raise (?:it|this) with"
    r"|booked (?:it |this )?(?:through|via|with|on)|bought (?:it |this )?(?:through|via|from|on)"
    r"|(?:handled|sold|operated|managed|issued|provided|run|owned|dispatched) by)"
    r"[ \t]+((?:[A-Z][\w&'-]*(?:\.[a-z]+)?)(?:[ \t]+[A-Z][\w&'-]*){0,2})"
    r"|((?:[A-Z][\w&'-]*(?:\.[a-z]+)?)(?:[ \t]+[A-Z][\w&'-]*){0,2}),?[ \t]+(?:(?:who|which)[ \t]+)?(?:is|are)[ \t]+(?:an?[ \t]+)?"
    r"(?:independent|separate|third[- ]party)"
)
_NOT_NAMES = frozenset("Us Our We You Your Them Their The This That Customer Support Team Please".split())


def configured(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The deployment's partners (TRUSTDESK_PARTNERS, comma-separated) before the common ones."""
    return with_common([name.strip() for name in environ.get("TRUSTDESK_PARTNERS", "").split(",") if name.strip()])


def with_common(own: Iterable[str]) -> list[str]:
    """A deployment's own partner names, then the common ones it did not already list."""
    own = list(own)
    return own + [p for p in COMMON_PARTNERS if p.lower() not in {o.lower() for o in own}]


# Text characters that match an ASCII letter under re.IGNORECASE although str.lower() does not make them one
# (dotless i, long s, capital I with dot): where one occurs, no name is ruled out by a substring test.
_FOLD_HAZARDS = re.compile("[\u0131\u017f\u0130]")


def _present(names: tuple[str, ...], text: str) -> tuple[str, ...]:
    """The names that could match in the text, in their order: the rest cannot, so leaving them out changes no match.

    The one pattern of all names is tried at every position of the text; a
    substring test per name is far cheaper, and most texts name no partner.
    """
    if _FOLD_HAZARDS.search(text):
        return names
    lowered = text.lower()
    return tuple(n for n in names if not n.isascii() or n.lower() in lowered)


@lru_cache(maxsize=256)
def _known(names: tuple[str, ...]) -> re.Pattern:
    """One pattern for all known names, longest first so "Uber Eats" wins over "Uber"."""
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)", re.IGNORECASE)


def known_names(text: str, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(position, name as written) of every known name in the text."""
    present = _present(names, text)
    return [(m.start(), m.group()) for m in _known(present).finditer(text)] if present else []


def recognise(text: str, names: Iterable[str] = COMMON_PARTNERS) -> list[str]:
    """Partner names in a text: known names first (as written in the text), then referral phrases."""
    found = known_names(text, tuple(names))
    for m in _REFERRAL.finditer(text):
        name = (m.group(1) or m.group(2)).strip().rstrip(".")
        first = name.split()[0]
        if first not in _NOT_NAMES:
            found.append((m.start(1) if m.group(1) else m.start(2), name))
    out: list[str] = []
    for _, name in sorted(found):
        if not any(name.lower() in o.lower() or o.lower() in name.lower() for o in out):
            out.append(name)
    return out
