"""How much of each playbook's trigger phrases a conversation contains, for ranking playbooks.

A phrase fits by the share of its content words (stop words dropped, a plural
"s" ignored) that occur in the conversation; below two thirds it does not fit.
Playbooks carry a few hundred phrases and every ticket is ranked against all
of them, so the phrases are indexed once by the words that satisfy them: a
ticket then costs one lookup per distinct word it contains, not one test per
content word of every phrase.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

STOP = frozenset("i i'm i've i'll me my we our us you your it its it's is are was were be been the a an to of for in on "
                 "at and or but this that with about have has had not no so just still again will would can could do "
                 "did does".split())
TOKENS = re.compile(r"[a-z0-9']+")
MIN_SHARE = 2 / 3


def conversation_words(text: str) -> set[str]:
    """The words of a conversation, each also without its trailing "s"."""
    words = set(TOKENS.findall(text.lower()))
    return words | {w.rstrip("s") for w in words}


@lru_cache(maxsize=8192)
def phrase_content(phrase: str) -> tuple[tuple[str, str], ...]:
    """A trigger phrase's content words, each with its plural-less form (phrases come from playbooks: few, reused)."""
    tokens = TOKENS.findall(phrase.lower())
    return tuple((w, w.rstrip("s")) for w in ([w for w in tokens if w not in STOP] or tokens))


def phrase_fit(phrase: str, words: set[str]) -> float:
    """How much of one trigger phrase's content the conversation contains (0 below two thirds)."""
    content = phrase_content(phrase)
    if not content:
        return 0.0
    share = sum(w in words or bare in words for w, bare in content) / len(content)
    return share if share >= MIN_SHARE else 0.0


class PhraseIndex:
    """The phrases of a set of playbooks, indexed by the words that satisfy their content words.

    `fits(words)` gives, phrase by phrase, exactly what `phrase_fit` gives: a
    content word (w, bare) counts when w or bare is among the words, which is
    when one of the words is listed under w or under bare here.
    """

    def __init__(self, phrases: tuple[str, ...]):
        self.n_phrases = len(phrases)
        owners: list[int] = []
        self.sizes = np.zeros(len(phrases), np.int64)
        by_word: dict[str, list[int]] = {}
        for j, phrase in enumerate(phrases):
            content = phrase_content(phrase)
            self.sizes[j] = len(content)
            for w, bare in content:
                for word in dict.fromkeys((w, bare)):
                    by_word.setdefault(word, []).append(len(owners))
                owners.append(j)
        self.owners = np.array(owners, np.int64)
        self.by_word = {word: np.array(ids, np.int64) for word, ids in by_word.items()}

    def fits(self, words: set[str]) -> list[float]:
        """phrase_fit of every phrase, in order."""
        met = np.zeros(len(self.owners), bool)
        for word in words:
            ids = self.by_word.get(word)
            if ids is not None:
                met[ids] = True
        counts = np.bincount(self.owners[met], minlength=self.n_phrases)
        shares = (counts / np.maximum(self.sizes, 1)).tolist()  # int / int, as phrase_fit divides
        return [s if n and s >= MIN_SHARE else 0.0 for s, n in zip(shares, self.sizes.tolist())]


@lru_cache(maxsize=8)
def index_of(phrases: tuple[str, ...]) -> PhraseIndex:
    """The index of a deployment's phrases (playbooks change rarely: a new tuple, a new index)."""
    return PhraseIndex(phrases)
