"""Rewrite an agent's draft: blame becomes a joint statement, deflection an owned next step.

Only the sentences the classifier flags are touched; every other sentence,
the greeting and the signature stay exactly as the agent wrote them. Each
flagged sentence gets candidates from the most faithful (remove the blaming
frame) to the most general (a joint statement that carries the sentence's
facts); the first candidate that the classifier clears and that keeps every
fact wins. Owned steps are commitments ("I'll contact Expedia today"), never
claims that something was done, and whatever the agent must supply is marked
"[...]" and listed in to_confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from models.predict import LABEL_INDEX
from models.text import own_regions, own_text, sentences

from . import facts as fact_tools
from .partners import recognise
from .scoring import Scorer

_BLAME_FRAMES = re.compile(
    r"^\s*(?:as i(?:'ve| have)? (?:already |previously |clearly )?(?:explained|said|mentioned|stated|told you|advised)"
    r"(?: (?:before|earlier|previously|in my (?:last|previous) (?:email|message|reply)))?"
    r"|per my (?:last|previous|earlier) (?:email|message|reply)|as per my (?:last|previous) (?:email|mail|message)"
    r"|as (?:previously|already) (?:stated|explained|mentioned|advised|informed)|as stated (?:before|previously|earlier)"
    r"|as you were (?:told|informed|advised)|again|clearly|obviously|once again)\s*[,:;-]?\s*",
    re.IGNORECASE,
)
_IRREGULAR = {"chose": "chosen", "gave": "given", "took": "taken", "wrote": "written", "forgot": "forgotten",
              "sent": "sent", "bought": "bought", "paid": "paid", "put": "put", "made": "made", "got": "got"}
_YOU_DID = re.compile(
    r"\byou (entered|typed|selected|chose|provided|gave|booked|ordered|used|sent|bought|paid|put|made|picked|added|"
    r"submitted|filled in|wrote|set) (?:in )?(.+?)([.!?]*)$", re.IGNORECASE)
# A greeting or @handle opening a sentence stays as the agent wrote it.
_GREETING = re.compile(
    r"(?:@\w+[ \t]+)*(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,!.\n]{0,40}[,!.][ \t]*)?",
    re.IGNORECASE)
_ROLE_NOUN = re.compile(
    r"\b(?:your|the|our|their)\s+(?:[a-z-]+\s+)?(?:bank|card issuer|carrier|courier|seller|manufacturer|insurer|"
    r"landlord|airline|restaurant|hotel|merchant|retailer|developer|provider|partner|driver|store|operator|"
    r"contractor|tradesperson|installer|university|college|school|admissions office|lab|clinic|pharmacy|broker|"
    r"agency|supplier|dealer|dealership|council|authority|insurance company)\b",
    re.IGNORECASE)


_CLAIM = re.compile(
    r"\b(?:i've|i have|we've|we have|i|we)\s+(?:already\s+)?(?:contacted|called|emailed|spoken(?: to| with)?|refunded|"
    r"credited|sent|issued|fixed|arranged|booked|escalated|cancelled|replaced|processed|raised|opened|resolved)\b",
    re.IGNORECASE)


def invented_claims(original: str, candidate: str) -> list[str]:
    """Claims of actions already taken that the candidate makes and the original did not."""
    before = {m.group().lower() for m in _CLAIM.finditer(original)}
    return [m.group() for m in _CLAIM.finditer(candidate) if m.group().lower() not in before]


# A sentence at this share of a label's threshold leans that way.
LEANING = 0.7


@dataclass
class SentenceChange:
    """One replaced sentence, with offsets into the original draft."""

    start: int
    end: int
    before: str
    after: str
    reason: str
    to_confirm: list[str] = field(default_factory=list)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _unblamed(sentence: str) -> list[str]:
    """Faithful candidates: the blaming frame removed, "you did X" turned into "X was done"."""
    out = []
    stripped = _BLAME_FRAMES.sub("", sentence, count=1)
    if stripped != sentence and stripped.strip():
        out.append(_capitalise(stripped.strip()))
    base = out[0] if out else sentence
    m = _YOU_DID.search(base)
    if m:
        verb, rest, stop = m.group(1), m.group(2), m.group(3) or "."
        participle = _IRREGULAR.get(verb.lower(), verb)
        head = base[:m.start()].rstrip()
        joint = f"it looks like {rest} was {participle}{stop}"
        out.append(_capitalise((head + " " + joint).strip()) if head else _capitalise(joint))
    return out


def _names(facts: list[str]) -> list[str]:
    """Facts that look like organisations: several capitalised words or an acronym, no digits.

    Single capitalised words are left out: in a support reply they are as often the
    customer's first name as a company.
    """
    return [f for f in facts if f[:1].isupper() and not any(c.isdigit() for c in f)
            and (" " in f or (f.isupper() and len(f) >= 2))]


def _facts_clause(facts: list[str]) -> str:
    return f" ({', '.join(facts)})" if facts else ""


def blame_candidates(sentence: str, facts: list[str], repeated: bool = False) -> list[tuple[str, list[str]]]:
    """Candidates for a blaming sentence, most faithful first, with what to confirm."""
    candidates = [(c, []) for c in _unblamed(sentence)]
    if repeated:
        candidates.append((f"Let's go through {', '.join(facts)} together." if facts else "", []))
    candidates.append((f"It looks like we got our wires crossed here{_facts_clause(facts)}, "
                       "so let's put it right together.", []))
    candidates.append((f"Let's look at this together{_facts_clause(facts)} and put it right.", []))
    return candidates


def deflection_candidates(sentence: str, facts: list[str], partner: str | None,
                          committed: bool = False) -> list[tuple[str, list[str]]]:
    """Owned next steps for a deflecting sentence, as commitments with the time left to fill in.

    When an earlier sentence already carries the commitment, a second one would
    repeat it: the sentence then only says we will sort it out, keeping its facts.
    """
    noun = _ROLE_NOUN.search(sentence)
    target = partner or (noun.group(0).lower() if noun else None)
    rest = [f for f in facts if not target or f.lower() != target.lower()]
    about = f" about this{_facts_clause(rest)}"
    if committed:
        return [(f"We'll sort this out{' with ' + target if target else ''}{_facts_clause(rest)} so you don't have to.", []),
                (f"That's for us to sort out{_facts_clause(rest)}, not you.", [])]
    # The owned step keeps the customer's goal in sight; only the agent knows it exactly.
    goal = "make sure you get [what you came for]"
    confirm = ["what the customer came for (the car, the refund, the repair...)", "the time you will update the customer by"]
    if target:
        confirm.append(f"that you can contact {target} on the customer's behalf")
        return [(f"I'll contact {target} myself today{about}, {goal}, and update you by [time].", confirm),
                (f"I'll contact {target} myself today{about} and update you by [time].", confirm[1:]),
                (f"I'm taking this up with {target} for you{about}, and I'll update you by [time].", confirm[1:])]
    facts = _facts_clause(rest)
    return [(f"I'll take this up with the right team myself today{facts}, {goal}, and update you by [time].", confirm[:2]),
            (f"I'll take this up with the right team myself today{facts} and update you by [time].", confirm[1:2]),
            (f"I'm keeping this with me{facts} and I'll update you by [time].", confirm[1:2])]


def _sentence_ok(analyzer: Scorer, text: str, original: str, partners: Iterable[str], carried: str = "") -> bool:
    """A candidate passes when the classifier clears it and no fact is lost (here or earlier)."""
    if text:
        probs = analyzer.score_texts([text], ["agent"])[0]
        if any(probs[LABEL_INDEX[name]] >= analyzer.thresholds[name] for name in ("blame", "deflection")):
            return False
    return not fact_tools.missing(original, text + " " + carried, partners)


def _message_flags(analyzer: Scorer, body: str) -> list[str]:
    """Blame/deflection flags of a whole draft (its own words only)."""
    probs = analyzer.score_texts([own_text(body)], ["agent"])[0]
    return [n for n in ("blame", "deflection") if probs[LABEL_INDEX[n]] >= analyzer.thresholds[n]]


def draft_texts(body: str) -> list[str]:
    """What plan_changes scores first: the draft's own sentences, then its own text."""
    return [body[s:e] for s, e in sentences(body, own_regions(body))] + [own_text(body)]


def plan_changes(body: str, analyzer: Scorer, partners: list[str]) -> tuple[list[SentenceChange], list[str]]:
    """The changes for a draft, and notes on sentences no candidate could fix.

    First every sentence flagged on its own; then, while the draft as a whole
    still reads as blame or deflection (mild sentences add up), the sentence
    that contributes most to that label, until the draft clears.
    """
    found = list(sentences(body, own_regions(body)))
    if not found:
        return [], []
    probs = analyzer.score_texts([body[s:e] for s, e in found], ["agent"] * len(found))
    state = _Plan(body, found, partners, recognise(body, partners))
    for i, p in enumerate(probs):
        flagged = [n for n in ("deflection", "blame") if p[LABEL_INDEX[n]] >= analyzer.thresholds[n]]
        if flagged:
            state.change(i, flagged[0], analyzer)
    for _ in range(len(found)):
        remaining = _message_flags(analyzer, apply(body, list(state.changes.values())))
        if not remaining:
            break
        label = remaining[0]
        open_ = [i for i in range(len(found)) if i not in state.changes and i not in state.tried]
        if not open_:
            break
        state.change(max(open_, key=lambda i: probs[i][LABEL_INDEX[label]]), label, analyzer)
    # Sentences that lean the same way as what the draft was flagged for, though not over
    # the line alone ("must be raised with Alpen Reisen" next to an owned step), would read
    # as a contradiction once the rest owns the problem: they are reworded too.
    if not _message_flags(analyzer, body):
        return list(state.changes.values()), state.notes
    for i, p in enumerate(probs):
        leaning = [n for n in ("deflection", "blame") if p[LABEL_INDEX[n]] >= LEANING * analyzer.thresholds[n]]
        if leaning and i not in state.changes and i not in state.tried:
            state.change(i, leaning[0], analyzer, may_remove=False)
    return list(state.changes.values()), state.notes


@dataclass
class _Plan:
    """Working state while a draft's changes are chosen."""

    body: str
    found: list[tuple[int, int]]
    partners: list[str]
    message_partners: list[str]
    changes: dict[int, SentenceChange] = field(default_factory=dict)
    tried: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def change(self, i: int, label: str, analyzer: Scorer, may_remove: bool = True) -> None:
        """Replace sentence i with the first candidate for `label` that passes the checks.

        A sentence that only leans one way (`may_remove` False) is reworded, never removed.
        """
        self.tried.add(i)
        s, e = self.found[i]
        greeting = _GREETING.match(self.body, s, e).group()
        s += len(greeting)
        sentence = self.body[s:e]
        if not sentence.strip():
            return
        sentence_facts = fact_tools.extract(sentence, self.partners)
        used = {c.after for c in self.changes.values()}
        # Only a change for the same label makes this sentence's point already: a joint problem
        # statement does not make the next step of a deflection.
        same = [c for c in self.changes.values() if c.reason.startswith(label)]
        new_facts = [f for f in sentence_facts if not any(f.lower() in u.lower() for u in used)]
        if label == "deflection":
            committed = any("[time]" in c.after for c in self.changes.values())
            partner = (recognise(sentence, self.partners) or _names(sentence_facts) or self.message_partners or [None])[0]
            candidates = deflection_candidates(sentence, new_facts, partner, committed)
            reason = "deflection: the next step pushed onto someone else becomes one we own"
        else:
            candidates = blame_candidates(sentence, new_facts, repeated=bool(same))
            reason = "blame: the fault put on the customer becomes a joint problem statement"
        if not new_facts and same and may_remove:
            # Its point is already made by an earlier change: say it once, drop the repeat.
            candidates = [("", [])] + candidates
        # Facts already carried by an earlier change do not need repeating here.
        carried = " ".join(used)
        chosen = next(((t, c) for t, c in candidates if t not in used
                       and _sentence_ok(analyzer, t, sentence, self.partners, carried)), None)
        if chosen is None:
            self.notes.append(f"no candidate for {sentence!r} passed the checks; left for the agent to reword")
            return
        after = chosen[0]
        if greeting.rstrip().endswith(",") and after[:1].isupper() and not after.startswith("I'"):
            after = after[0].lower() + after[1:]  # "Hi Priya, we'll ..." continues the greeting's sentence
        self.changes[i] = SentenceChange(s, e, sentence, after, reason, chosen[1])


def apply(body: str, changes: list[SentenceChange]) -> str:
    """The draft with the changes applied (changes do not overlap); a removed sentence takes its space."""
    out, last = [], 0
    for change in sorted(changes, key=lambda c: c.start):
        out.append(body[last:change.start])
        out.append(change.after)
        last = change.end
        if not change.after:  # a removed sentence takes one of its surrounding spaces with it
            if body[last:last + 1] == " ":
                last += 1
            elif out and out[-2].endswith(" "):
                out[-2] = out[-2][:-1]
    out.append(body[last:])
    return "".join(out)
