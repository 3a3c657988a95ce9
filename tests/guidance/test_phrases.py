"""The phrase index ranks playbooks exactly as testing every phrase one by one does."""

from hypothesis import given, settings
from hypothesis import strategies as st

from guidance.phrases import PhraseIndex, conversation_words, phrase_fit
from guidance.playbooks import load_dir
from models.corpus import load_tickets

PHRASES = tuple(p for pb in load_dir() for p in pb.triggers["phrases"]) + ("", "the a an", "bus buses", "Refunds' refund")
INDEX = PhraseIndex(PHRASES)


def test_every_corpus_conversation_fits_as_phrase_by_phrase():
    for ticket in load_tickets():
        words = conversation_words(" ".join(m["body"] for m in ticket["messages"]))
        assert INDEX.fits(words) == [phrase_fit(p, words) for p in PHRASES]


VOCABULARY = sorted({w for p in PHRASES for w in p.lower().split()} | {"bu", "buse", "refunds", "s", "ss", "xyz"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=40))
def test_any_words_fit_as_phrase_by_phrase(picked):
    words = conversation_words(" ".join(picked))
    assert INDEX.fits(words) == [phrase_fit(p, words) for p in PHRASES]


def test_a_phrase_needs_two_thirds_of_its_content_words():
    index = PhraseIndex(("refund delayed payment", "refund", ""))
    assert index.fits(conversation_words("my refunds are delayed")) == [2 / 3, 1.0, 0.0]
    assert index.fits(conversation_words("where is my payment")) == [0.0, 0.0, 0.0]
