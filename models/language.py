"""Detect a message's language, and say when our English models should abstain.

py3langid carries its model inside the package, so detection needs no network.
Short, emoji-only or handle-heavy text is too thin for any detector (langid
calls "thanks!!" Xhosa), so it is scored as English rather than abstained on;
we abstain only when the detector is confident the text is another language.
Text full of English function words skips the detector, which is then loaded
only when a message needs it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

SUPPORTED = frozenset({"en"})
# Below this many letters (after removing handles, links, numbers) we do not trust detection.
MIN_LETTERS = 25
MIN_WORDS = 4
# Abstain only when the detector is this sure of another language and gives English little.
ABSTAIN_CONFIDENCE = 0.85
ENGLISH_FLOOR = 0.05

# Words common in English and rare in other languages' spelling: enough of them is
# proof of English, and skips the detector (its model costs ~70 MB when loaded).
_ENGLISH = frozenset(
    "the and you your my is are was were to of for it this that with have has not been we i i'm it's "
    "please can what why how will just but they our from would could there their about if did don't "
    "still get got thanks thank hi hello been any when where who which should".split()
)
_WORD = re.compile(r"[a-z']+")
_LETTER = re.compile(r"[^\W\d_]")
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\S+@\S+|\d+|\^\w+")
_lock = threading.Lock()
_identifier = None


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language and whether the classifiers should abstain."""

    language: str
    abstained: bool


def _get_identifier():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def warm_up() -> None:
    """Load the language model now (it takes a moment) instead of on first use."""
    _get_identifier()


def detect(text: str) -> LanguageGuess:
    """Guess the language of `text`; "und" when it is too short to tell."""
    cleaned = _NOISE.sub(" ", text)
    letters = len(_LETTER.findall(cleaned))
    if letters < MIN_LETTERS or len(cleaned.split()) < MIN_WORDS:
        return LanguageGuess("und", False)
    words = _WORD.findall(cleaned.lower())
    hits = [w for w in words if w in _ENGLISH]
    if len(set(hits)) >= 3 and len(hits) >= 0.2 * len(words):
        return LanguageGuess("en", False)
    ranked = _get_identifier().rank(cleaned)
    top, confidence = ranked[0]
    if top in SUPPORTED:
        return LanguageGuess(top, False)
    english = next((p for lang, p in ranked if lang == "en"), 0.0)
    if confidence >= ABSTAIN_CONFIDENCE and english < ENGLISH_FLOOR:
        return LanguageGuess(top, True)
    # The detector is unsure; non-native English often looks like this.
    return LanguageGuess("en", False)
