"""Property-based: any valid ticket, however odd, is analysed and guided without an error.

Bodies are built from the pieces real messages are made of (HTML, quote headers,
signatures, emoji, other languages, partner names) so the search reaches the
code paths that matter; offsets must always point at the text they name.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidance import partners, playbooks
from guidance.engine import Context, guide
from models.ticket import TicketError, load_ticket

PIECES = ["", " ", "\n", "hi", "😡", "<p>", "</div>", "&amp;", ">", "On Mon, Dana wrote:", "-- ", "\r\n", "#12345",
          "please contact Expedia", "you should have read it", "I'll sue you", "Hola, qué tal", "Ω≈ç√", "http://x.y/z",
          "@handle", "Dear Sir,", "Regards,", "Sent from my iPhone", "[time]", "{customer_name}", "$5", "3 May", "9am",
          ".", "!!!", "\t", "nothing we can do", "third time asking"]
body = st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=12).map("".join)
message = st.fixed_dictionaries({"author_role": st.sampled_from(["customer", "agent"]), "body": body})
ticket = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=8) | st.integers(min_value=0),
    "messages": st.lists(message, min_size=1, max_size=4),
    "history": st.none() | st.fixed_dictionaries({"prior_contacts": st.integers(0, 20), "reopened": st.booleans()}),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=ticket)
def test_any_valid_ticket_is_analysed_and_guided(analyzer, raw):
    try:
        normalized = load_ticket(raw)
    except TicketError:
        return
    analysis = analyzer.analyze(normalized)
    guidance = guide(normalized, analysis, Context(analyzer, playbooks.load_dir(), partners.configured({})))
    json.dumps(analysis), json.dumps(guidance)
    for message, result in zip(normalized["messages"], analysis["messages"]):
        text = result.get("body", message["body"])
        assert all(text[s["start"]:s["end"]] == s["text"] for s in result["spans"])
    if guidance["rewrite"]:
        original = guidance["rewrite"]["original"]
        assert all(original[c["start"]:c["end"]] == c["before"] for c in guidance["rewrite"]["changes"])
