"""Select the messages of the frozen real-text gold evaluation set.

Usage (from the repository root):

    python models/data/eval/sample_gold.py /work/shared/data/external > worklist.jsonl

The argument is the folder that holds the external data sets described in
``shared/data/external/PROVENANCE.md``. Two of them are read:

* ``twcs-sample/twcs_sample_5000.csv`` (Customer Support on Twitter, random
  sample; CC BY-NC-SA 4.0, research/evaluation only). ``inbound == True`` is a
  customer tweet (role ``customer``), ``False`` a brand reply (role ``agent``).
  The reference of a message is its ``tweet_id``.
* ``ibm-twitter-customer-care/test.json`` (IBM Twitter Customer Care, test
  split; Apache-2.0). Turns of ``dialogContent`` with a ``client`` key are
  customer messages and turns with an ``agent`` key are agent messages; their
  reference is ``<sessionID>:<i>`` where ``i`` is the 0-based index of the turn
  in ``dialogContent``. Each conversation's final agent turn
  ``agentURL.url_utterance`` is an agent message with reference
  ``<sessionID>:u``. Turns keyed ``client1`` (a second Twitter user who joined
  the thread; sometimes another brand account) are left out because their role
  is not reliable.

Selection (400 messages, deterministic for a given ``SEED``):

    source     role       total  pattern  random
    twcs       agent        125       63      62
    twcs       customer     125       63      62
    ibm-test   agent         75       38      37
    ibm-test   customer      75       38      37

Within each (source, role) stratum, half the messages are drawn from those that
match at least one broad, case-insensitive pattern family below (so that
positives exist), and the other half uniformly at random from every message of
the stratum not already selected (matching or not). The pattern half is drawn
round-robin over the three families (deflection-ish, blame-ish,
escalation-ish), each draw uniform among that family's not-yet-selected
matches, so that very common words ("again", "bank") do not crowd out the
rarer families. Messages with empty text are skipped.

These patterns are only a sampling device. They must never be reused as model
features or rules evaluated on this set, or the evaluation becomes circular.

Output: JSON Lines on stdout, one selected message per line, with ``source``,
``ref``, ``role``, ``sampled_by`` (``"pattern"`` or ``"random"``) and
``families`` (the pattern families the text matches; informative only). The
text itself is never printed, because the TWCS licence forbids copying it into
the project; texts are joined back from the shared folder by ``ref``.

Standard library only.
"""

import csv
import json
import os
import random
import re
import sys

SEED = 20240611

PATTERNS = {
    "deflection": [
        r"contact your", r"reach out to", r"not affiliated", r"third[- ]party",
        r"nothing we can do", r"another team", r"unable to", r"bank",
        r"carrier", r"seller", r"manufacturer",
    ],
    "blame": [
        r"you should", r"as i said", r"your fault", r"you people",
        r"incompetent", r"ridiculous", r"worst",
    ],
    "escalation": [
        r"lawyer", r"sue", r"court", r"cancel", r"switch", r"manager",
        r"supervisor", r"review", r"never again", r"chargeback", r"dispute",
        r"third time", r"still waiting", r"again",
    ],
}
# Word boundary at the start of every pattern (so "sue" does not match
# "issue"); open at the end so inflections match ("cancelled", "banks").
FAMILY_RE = {
    fam: re.compile(r"\b(?:" + "|".join(pats) + r")", re.IGNORECASE)
    for fam, pats in PATTERNS.items()
}
FAMILY_ORDER = ["deflection", "blame", "escalation"]

QUOTAS = [  # (source, role, total)
    ("twcs", "agent", 125),
    ("twcs", "customer", 125),
    ("ibm-test", "agent", 75),
    ("ibm-test", "customer", 75),
]


def families(text):
    return [fam for fam in FAMILY_ORDER if FAMILY_RE[fam].search(text)]


def load_twcs(root):
    path = os.path.join(root, "twcs-sample", "twcs_sample_5000.csv")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = (row["text"] or "").strip()
            if not text:
                continue
            role = "customer" if row["inbound"].strip() == "True" else "agent"
            out.append(("twcs", row["tweet_id"].strip(), role, text))
    return out


def load_ibm(root):
    path = os.path.join(root, "ibm-twitter-customer-care", "test.json")
    with open(path, encoding="utf-8") as fh:
        convs = json.load(fh)
    out = []
    for conv in convs:
        sid = conv["dialogHeader"]["sessionID"]
        for i, turn in enumerate(conv["dialogContent"]):
            text = (turn.get("message") or "").strip()
            if not text:
                continue
            if "client" in turn:
                out.append(("ibm-test", "%s:%d" % (sid, i), "customer", text))
            elif "agent" in turn:
                out.append(("ibm-test", "%s:%d" % (sid, i), "agent", text))
        text = (conv.get("agentURL", {}).get("url_utterance") or "").strip()
        if text:
            out.append(("ibm-test", "%s:u" % sid, "agent", text))
    return out


def select(pool, total, rng):
    """Return [(item, sampled_by)] for one stratum; pool is sorted by ref."""
    n_pattern = (total + 1) // 2
    by_family = {fam: [] for fam in FAMILY_ORDER}
    for item in pool:
        for fam in families(item[3]):
            by_family[fam].append(item)
    chosen, chosen_refs = [], set()
    while len(chosen) < n_pattern:
        progressed = False
        for fam in FAMILY_ORDER:
            if len(chosen) >= n_pattern:
                break
            left = [it for it in by_family[fam] if it[1] not in chosen_refs]
            if not left:
                continue
            item = rng.choice(left)
            chosen.append((item, "pattern"))
            chosen_refs.add(item[1])
            progressed = True
        if not progressed:
            break  # fewer matches than the quota; the random half fills up
    rest = [it for it in pool if it[1] not in chosen_refs]
    for item in rng.sample(rest, total - len(chosen)):
        chosen.append((item, "random"))
    return chosen


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    root = argv[1]
    messages = load_twcs(root) + load_ibm(root)
    rng = random.Random(SEED)
    for source, role, total in QUOTAS:
        pool = sorted(
            (m for m in messages if m[0] == source and m[2] == role),
            key=lambda m: m[1],
        )
        for item, how in select(pool, total, rng):
            src, ref, rl, text = item
            sys.stdout.write(json.dumps({
                "source": src, "ref": ref, "role": rl, "sampled_by": how,
                "families": families(text),
            }) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
