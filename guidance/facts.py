"""Facts of a message: what a rewrite or suggestion must never drop or change.

Names, order and booking numbers, amounts, dates, times, emails and links are
what the customer will check a reply against; a kinder reply that loses the
booking number is a worse reply. Extraction is deliberately broad: a false fact
only makes verification stricter.
"""

from __future__ import annotations

import re
from typing import Iterable

_PATTERNS = [
    re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\w\b"),                                   # emails
    re.compile(r"(?<![\w@])@\w+"),                                                   # @handles
    re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]|www\.[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]"
               r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]"),  # links
    re.compile(r"(?:[$£€¥₹]|\b(?:USD|EUR|GBP|AED|INR|CAD|AUD)\s?)\d[\d,]*(?:\.\d+)?"
               r"|\b\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|AED|INR|CAD|AUD|dollars|euros|pounds)\b"),  # amounts
    re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|AM|PM)\b|\b\d{1,2}:\d{2}\b"),          # times
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"),                  # numeric dates
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\b"
               r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\s\d{1,2}(?:st|nd|rd|th)?\b"),  # dates
    re.compile(r"#?\b(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,}\b|#\d+"),                      # references
]
# Capitalised words that start sentences or are ordinary words, not names.
_COMMON = frozenset(
    "I I'm I've I'll I'd A An The This That That's These Those There There's Here Here's What's It It's Its If As At In On Of For To From By With "
    "We We're We've We'll Our Us You You're You've You'll Your Yours He She They Them Their Please Thanks Thank Hi "
    "Hello Dear Hey Sorry Unfortunately Apologies Regards Best Kind Kindly Sincerely Cheers Yes No Ok OK Okay So But "
    "And Or Also Just Let Let's Once When Where What Why How Who Which While Since After Before Then Now Today "
    "Tomorrow Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday Per Note However Meanwhile "
    "Otherwise Again Still Any All Some Many More Most Sure Great Good Glad Happy Customer Support Team Service "
    "Order Booking Ticket Case Account Mr Mrs Ms Dr Sir Madam Subject Re Fwd".split()
)
# One name may be several capitalised words on one line ("Northern Grid Networks").
_WORD = re.compile(r"\b[A-Z][\w&'.-]*\w(?:[ \t]+(?:of[ \t]+|&[ \t]+)?[A-Z][\w&'.-]*\w)*")
_WEEKDAY = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")


def extract(text: str, partners: Iterable[str] = ()) -> list[str]:
    """The facts of a text, in order of first appearance, without duplicates."""
    spans: list[tuple[int, int]] = []
    for pattern in _PATTERNS + [_WEEKDAY]:
        spans.extend(m.span() for m in pattern.finditer(text))
    starts = _sentence_starts(text)
    names = [_strip_common(m) for m in _WORD.finditer(text) if text[m.start() - 1:m.start()] != "@"]
    names = [n for n in names if n is not None]
    mid_sentence = {word for start, word in names if start not in starts}
    for start, word in names:
        # A capitalised word opening a sentence is a name only if it is capitalised elsewhere too,
        # or looks like a brand (inner capitals, digits).
        if start not in starts or word in mid_sentence or any(c.isupper() or c.isdigit() for c in word[1:]):
            spans.append((start, start + len(word)))
    lowered = text.lower()
    for partner in partners:
        at = lowered.find(partner.lower())
        if at >= 0:
            spans.append((at, at + len(partner)))
    seen, out = set(), []
    for start, end in sorted(spans):
        if any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
            continue  # inside a longer fact (a number inside a reference)
        fact = text[start:end].strip()
        if fact and fact.lower() not in seen:
            seen.add(fact.lower())
            out.append(fact)
    return out


def _strip_common(m: re.Match) -> tuple[int, str] | None:
    """A run of capitalised words without leading common words ("Please Contact Acme" -> "Acme") or a possessive."""
    words = m.group().rstrip(".").split()
    start = m.start()
    while words and words[0] in _COMMON:
        start = m.string.index(words[1], start + len(words[0])) if len(words) > 1 else start
        words = words[1:]
    if words and words[-1].endswith("'s") and len(words[-1]) > 2:
        words[-1] = words[-1][:-2]  # "Microsoft's update": the name is Microsoft
    return (start, " ".join(words)) if words else None


def _sentence_starts(text: str) -> set[int]:
    starts = {m.end() for m in re.finditer(
        r"(?:^|(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bMrs)[.!?]\s+|\n\s*)(?:@\w+\s+)*(?=\S)", text)}
    return starts | {0}


def missing(original: str, candidate: str, partners: Iterable[str] = ()) -> list[str]:
    """Facts of the original that the candidate does not contain (case-insensitive)."""
    lowered = candidate.lower()
    return [fact for fact in extract(original, partners) if fact.lower() not in lowered]
