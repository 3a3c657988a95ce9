"""Known partner names are found exactly as one pattern of all names finds them, with the substring pre-check."""

from hypothesis import given, settings
from hypothesis import strategies as st

from guidance.partners import COMMON_PARTNERS, _known, known_names, recognise

NAMES = ("Acme Travel", "Società Viaggi", "Uber", "Uber Eats", "DHL", "Booking.com", "Ebay") + COMMON_PARTNERS
WORDS = st.sampled_from([*NAMES, *(n.upper() for n in NAMES), *(n.lower() for n in NAMES), "please", "contact", "the",
                         "order", "is an independent", "Viſa", "EXPEDİA", "Expedıa", "Kayak", "ı", "’", "£20", "\n", ".", "xDHLx", "Uber-Eats"])


@settings(max_examples=500, deadline=None)
@given(st.lists(WORDS, max_size=12), st.sampled_from([" ", "", ", "]))
def test_names_found_as_the_full_pattern_finds_them(words, glue):
    text = glue.join(words)
    assert known_names(text, NAMES) == [(m.start(), m.group()) for m in _known(NAMES).finditer(text)]


def test_case_folds_that_lower_does_not_make_still_match():
    assert recognise("pleaſe contact DHL", ("DHL",)) == ["DHL"]
    assert recognise("booked on ebay", ("eBay",)) == ["ebay"]
    assert recognise("EXPEDİA said no", ("Expedia",)) == ["EXPEDİA"]  # İ matches i under IGNORECASE
    assert recognise("nothing named here", ("Expedia",)) == []
