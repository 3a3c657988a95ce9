"""Cue phrases: what support people know about blame, deflection and escalation.

The n-gram features only know words the corpus contains. These phrase groups
carry knowledge the corpus cannot cover word by word ("crooks", "Trustpilot",
"trading standards", "port my number"): each group becomes one feature, so
the weight learned from the phrases the corpus does contain transfers to the
rest of the group. The classifier decides how much each group matters.

Phrases are matched on whole tokens of the cleaned text (lower case, digits as
0, see features.clean); "(a|b|)" expands to alternatives, the empty one meaning
optional.
"""

from __future__ import annotations

import itertools
import re
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

_GROUPS: dict[str, list[str]] = {
    "accusation": [
        "scam", "scams", "scammer", "scammers", "scammed", "crook", "crooks", "thief", "thieves", "theft",
        "stealing", "stole", "robbery", "robbed", "rip off", "ripoff", "ripped (me|us) off", "liar", "liars",
        "lying", "lied", "fraud", "fraudulent", "fraudsters", "con artists", "incompetent", "incompetence",
        "useless", "pathetic", "disgrace", "disgraceful", "shameful", "shambles", "joke of a", "a joke",
        "clowns", "clown", "idiots", "morons", "amateurs", "cowboys", "negligent", "negligence", "careless",
        "(you|u) (people|ppl|guys|lot)", "your (staff|people|agents|driver|drivers|technician|engineer|team) (lost|broke|damaged|ruined|lied|threw)",
        "(you|u) (lost|broke|damaged|ruined|destroyed|ignored|cancelled|overcharged|charged) (my|me|our)",
        "your (fault|mistake|error|incompetence|negligence)", "(don't|dont|do not|never) care",
        "couldn't care less", "ignoring (me|us)", "ignored (me|us)", "thanks for nothing", "worst (service|company|customer service|support|experience)",
        "(terrible|horrible|awful|appalling|atrocious|abysmal|shocking) (service|support|customer service|company)",
        "daylight robbery", "taking (the|us for) (piss|mickey|fools)", "treat (your )?customers like",
    ],
    "agent_fault": [
        "as i (already|previously|) (said|explained|mentioned|stated|advised|told you)",
        "as (previously|already|we|was) (stated|explained|mentioned|advised|informed|said)",
        "per my (last|previous|earlier) (email|message|reply|response|note)", "as per my (last|previous) (email|mail|message)",
        "you should have", "you should've", "you shouldn't have", "you (didn't|did not|failed to|forgot to|neglected to|never)",
        "you were (told|informed|advised|warned)", "user error", "your (own|) (fault|mistake|error|responsibility|problem)",
        "if you had", "had you (read|checked|followed)", "you must have", "clearly (states|stated|says|said|mentioned|explained)",
        "read the (terms|instructions|manual|email|faq|policy|fine print)", "(it is|it's|that is|that's) (on|up to) you",
        "not our (fault|problem|responsibility|issue)", "works (fine|perfectly) on our (end|side)", "nothing wrong on our (end|side)",
        "you (agreed|accepted|signed|chose|selected|entered|typed|provided|gave us)", "please (read|refer to) (my|our) (previous|earlier|last)",
        "you (are|were|keep) (skipping|ignoring|missing|not following)", "you (skipped|ignored|missed) (the|a|my|our)",
        "(i|we) (already|) told you", "(i've|i have|we've|we have) (already|) (told|explained to|informed) you",
    ],
    "referral": [
        "contact (them|the|your|their|it) (directly|)", "reach out to (them|the|your|their)", "get in touch with (them|the|your|their)",
        "take (it|this|that) up with", "speak (to|with) (your|the|their)", "raise (it|this|that) with (your|the|their)",
        "independent third party", "third party", "third-party", "independent (company|contractor|seller|business|broker|partner)",
        "separate (company|entity|business|team|department)", "not affiliated", "(handled|managed|processed|owned|operated|sold|issued|controlled) by (the|a|our|your|their)",
        "their (support|customer service|team|website|helpline|help desk)", "(outside|beyond) (of|) our (control|remit|hands)",
        "out of our hands", "nothing (more|further|else|) (we|i) can do", "no further action", "not (responsible|liable) for",
        "nothing (more|further|else|) can be done", "(not much|little) (we|i) can do", "can't be helped", "cannot be helped",
        "(that's|that is|it's|it is) up to (you|them|the)", "no way for us to", "not something (we|i) can (help|assist) with",
        "(another|different|other|separate) (team|department|company)", "we are just the (platform|marketplace|booking agent)",
        "(your|the) (bank|card issuer|issuer|carrier|courier|seller|manufacturer|insurer|landlord|isp|developer|merchant|retailer|restaurant|airline|host|vendor|reseller) (directly|)",
        "(can't|cannot|can not|unable to|are unable to|are not able to|not able to) (help|assist) (with|you with) (this|that|it)",
        "(can't|cannot|unable to) (assist|help) (here|over social media|on social media|via twitter|through this channel)",
        "refer to (our|the) (faq|help centre|help center|website|terms)",
    ],
    "ownership": [
        "(i've|i have|we've|we have|i|we) (contacted|reached out to|spoken to|spoken with|escalated|raised|opened|filed|sent|arranged|asked|called|emailed|chased|booked|issued|refunded|credited|fixed|corrected)",
        "on your behalf", "(i'll|i will|we'll|we will) (update|call|follow up|email|chase|check|contact|keep you|sort|fix|make sure|get back)",
        "(that's|that is|this is) on us", "our (mistake|fault|error|bad)", "we (messed up|got it wrong|dropped the ball|made a mistake)",
        "you don't need to do anything", "(no|nothing) (further|more) (action|) (needed|required) from you",
    ],
    "run_around": [
        "transferred", "passed around", "passed (me|from)", "run around", "runaround", "run-around", "back and forth",
        "ping pong", "(keep|kept|keeps) (sending|passing|bouncing|redirecting|referring|pushing) (me|us)",
        "told (me|us) to (call|contact|speak to|email|ask) (you|them)", "(say|says|said) to (call|contact|ask) you",
        "pointing (fingers|the finger)", "blame each other", "blaming each other",
        "(no one|nobody|noone) (takes|will take|wants to take) (responsibility|ownership)", "everyone (says|tells me) it's",
    ],
    "public": [
        "twitter", "tweet", "tweeting", "facebook", "instagram", "tiktok", "youtube", "reddit", "linkedin", "social media",
        "(leave|leaving|write|writing|post|posting|left) (a|my|an|the|) (bad|negative|honest|terrible|scathing|one star|0 star|) review",
        "reviews", "trustpilot", "yelp", "google review", "glassdoor", "one star", "0 star", "the press",
        "newspaper", "journalist", "reporter", "watchdog", "the news", "blog", "viral", "followers", "everyone will know",
        "tell everyone", "tell (all|) my friends", "warn (others|people|everyone)", "go public",
        "(make|making|post|posting|upload|uploading|film|filming|write|writing) (a|my|some|) (video|videos|song|songs|thread|post)",
        "podcast", "local news", "consumer show", "post about", "share (this|my story|it) (everywhere|with)",
    ],
    "legal": [
        "(my|a|our) (lawyer|lawyers|attorney|solicitor|solicitors)", "legal action", "sue", "suing", "lawsuit",
        "(take|taking|see) (you|this|them) (to|in) court", "court (action|case|claim)", "small claims", "tribunal", "regulator", "ombudsman", "bbb", "better business bureau", "ftc", "fcc", "cfpb", "ofcom",
        "ofgem", "ofwat", "fca", "trading standards", "attorney general", "consumer (protection|rights|affairs|council)",
        "report (you|this|your company) to", "file a (complaint|claim) with", "legal (team|advice|proceedings)", "data protection", "gdpr",
    ],
    "chargeback": [
        "chargeback", "charge back", "charge-back", "dispute (the|this|a|my|) (charge|payment|transaction)",
        "reverse (the|this|my) (charge|payment|transaction)", "(my|the) bank (will|to|is going to) (reverse|dispute|refund|claw)",
        "(paypal|card|credit card) (claim|dispute)", "(card company|card issuer|credit card company)", "stop (the|my|) payment",
        "cancel the (direct debit|payment)", "claw back",
    ],
    "churn": [
        "cancel (my|the|our) (account|subscription|membership|plan|contract|service|policy|broadband|line|sub)",
        "close (my|the|our) account", "closing my account", "(switch|switching|move|moving|going|go) to (a|another|) (competitor|provider|different|rival)",
        "(never|won't|will not|not going to) (again|order|buy|use|shop|fly|book|stay|recommend)", "never again",
        "lost (a|another|my|your|a loyal) (customer|business)", "done with (you|your)", "take my (business|money) elsewhere",
        "port my number", "porting my number", "(leaving|leave) (you|for)", "find (another|a new|a different) (provider|company|bank|supplier)",
        "last (month|time|order) (you get|with you|i)", "unsubscribe", "end my (contract|subscription|membership)",
    ],
    "manager": [
        "(speak|talk|speaking|talking) (to|with) (a|the|your|someone's|) (manager|supervisor|boss|ceo)",
        "(get|put) me (through to|) (a|the|your) (manager|supervisor)", "your (manager|supervisor|boss|ceo|superior)",
        "(want|need|demand|demanding|request|requesting|asking for|ask for) (a|the|your) (manager|supervisor)",
        "(a|the) (manager|supervisor) (now|immediately|right now|please|asap)", "someone senior",
        "(the|your) (head of|director of|owner|founder|ceo)", "escalate (this|it|my complaint|my case|the matter)",
        "higher up", "higher-up", "senior (staff|person|management|member)", "complaints (department|team)",
        "speak to someone (in charge|who can)", "someone with authority", "someone in charge",
    ],
    "repeat_contact": [
        "(second|third|fourth|fifth|sixth|seventh|0nd|0rd|0th|0st) (time|email|call|message|contact|attempt|chat|ticket|letter|complaint|request)",
        "(twice|0 times|several times|many times|multiple times|numerous times|countless times|so many times)",
        "yet again", "once again", "again and again", "(asking|writing|calling|emailing|contacting|chasing|messaging) (you|) again",
        "still (waiting|nothing|no|not|haven't|hasn't|no reply|no response)",
        "(for|since|over) (0|two|three|four|five|six|several|many) (days|weeks|months)", "promised", "(no one|nobody|noone) (has|) (replied|responded|got back|called back|answered)",
        "reopen", "reopened", "following up", "follow up again", "chasing", "how many (times|more)", "day 0", "weeks later", "months later",
        "still no", "heard nothing", "no response", "no reply", "never (got|heard|received) (back|a reply|a response|anything)",
    ],
}
GROUPS = tuple(_GROUPS)
_TOKEN = re.compile(r"[a-z0-9']+|[a-z]+-[a-z]+")
_MAX_WORDS = 6


def _expand(pattern: str) -> Iterable[str]:
    """All phrases of a pattern with "(a|b|)" alternatives."""
    parts = re.split(r"(\([^)]*\))", pattern)
    options = [p[1:-1].split("|") if p.startswith("(") else [p] for p in parts]
    for combo in itertools.product(*options):
        phrase = " ".join("".join(combo).split())
        if phrase:
            yield phrase


def _build() -> dict[tuple[str, ...], int]:
    table: dict[tuple[str, ...], int] = {}
    for index, name in enumerate(GROUPS):
        for pattern in _GROUPS[name]:
            for phrase in _expand(pattern):
                table[tuple(_TOKEN.findall(phrase))] = index
    return table


_TABLE = _build()
# Each word that starts a phrase, with the lengths (ascending) of the phrases it starts: only those are looked up.
def _lengths_by_first_word() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for phrase in _TABLE:
        found = lengths.setdefault(phrase[0], set())
        if len(phrase) <= _MAX_WORDS:
            found.add(len(phrase))
    return {first: tuple(sorted(found)) for first, found in lengths.items()}


_LENGTHS = _lengths_by_first_word()


def cue_entries(texts: Sequence[str]) -> tuple[list[int], list[int]]:
    """(text, group) of every cue phrase found in cleaned texts, one pair per occurrence."""
    rows, cols = [], []
    for r, text in enumerate(texts):
        tokens = _TOKEN.findall(text)
        size = len(tokens)
        for i, token in enumerate(tokens):
            lengths = _LENGTHS.get(token)
            if lengths is None:  # most tokens start no phrase: one dict lookup
                continue
            for n in lengths:
                if i + n > size:
                    break
                group = _TABLE.get(tuple(tokens[i:i + n]))
                if group is not None:
                    rows.append(r)
                    cols.append(group)
    return rows, cols


def cue_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """(texts x GROUPS) counts of cue phrases in cleaned texts."""
    rows, cols = cue_entries(texts)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(GROUPS)), dtype=np.float32)
