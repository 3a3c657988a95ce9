"""Own words versus quoted history and signatures, and sentence offsets."""

import pytest

from models.text import html_to_text, own_text, sentences


@pytest.mark.parametrize(
    "body, own, not_own",
    [
        ("Thanks, that works now.\n\nOn Mon, 3 Mar 2026 at 10:00, Dana <d@x.com> wrote:\n> You people are useless.",
         "Thanks, that works now.", "useless"),
        ("Sorted, thank you!\n\nOn Mon, 3 Mar 2026 at 10:00 AM Dana Smith <d@x.com>\nwrote:\n\n> I'll sue you.",
         "Sorted, thank you!", "sue"),
        ("Glad to help.\n\n-----Original Message-----\nFrom: Dana\nSent: Monday\nI will cancel everything.",
         "Glad to help.", "cancel"),
        ("Got it.\n\nFrom: Dana Smith <d@x.com>\nSent: Monday, 3 March 2026 10:00\nTo: Support\nSubject: Re: refund\n\nYour staff lied.",
         "Got it.", "lied"),
        ("> you never read my emails\nI did read them, and I've fixed it.", "I did read them, and I've fixed it.", "never read"),
        ("We've refunded you today.\n\nKind regards,\nPat Jones\nHead of Care | Acme\n+44 20 7946 0000",
         "We've refunded you today.", "Pat Jones"),
        ("All done.\n-- \nAcme Support\nThis email is confidential and intended only for you.", "All done.", "confidential"),
        ("Where is my order?\n\nSent from my iPhone", "Where is my order?", "iPhone"),
        ("Fixed it, thanks!\n\n##- Please type your reply above this line -##\n\nYour incompetent agent lied.",
         "Fixed it, thanks!", "incompetent"),
    ],
)
def test_own_text_excludes_quotes_and_signatures(body, own, not_own):
    text = own_text(body)
    assert own in text
    assert not_own not in text


def test_inline_reply_keeps_text_after_quotes():
    body = "On Mon, Dana wrote:\n> Is it fixed?\nYes, fixed this morning.\n> And the refund?\nSent today."
    text = own_text(body)
    assert "Yes, fixed this morning." in text and "Sent today." in text and "Is it fixed" not in text


def test_a_message_that_only_quotes_has_no_own_words(classify_one):
    assert own_text("> You people are useless, I'm calling my lawyer") == ""
    result = classify_one("On Mon, Dana wrote:\n> You people are useless, I'm calling my lawyer", "agent")
    assert result["flags"] == [] and result["spans"] == []


def test_html_blockquote_becomes_quoted_text():
    text = html_to_text('<div>Fixed now.</div><blockquote class="gmail_quote">You ruined my trip</blockquote>')
    assert own_text(text) == "Fixed now."


def test_sentences_are_offsets_into_the_text():
    text = "Hi there!  As I said, you typed it wrong. Sorry?\nNext line"
    spans = list(sentences(text))
    assert [text[s:e] for s, e in spans] == ["Hi there!", "As I said, you typed it wrong.", "Sorry?", "Next line"]
