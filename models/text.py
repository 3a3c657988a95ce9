"""Message text: HTML to plain text, the author's own words, and sentences.

Everything here works in offsets into the normalized body, because spans we
report must point at the text the agent sees. Quoted history and signatures
are found by their conventional markers and excluded, so the classifiers never
blame an agent for the customer's words quoted under "On ... wrote:".
"""

from __future__ import annotations

import re
import warnings
from typing import Iterator

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag

# A message body that happens to look like a URL or file name is still a message:
# bs4's hint that we might have meant to fetch it would only pollute stderr.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

_HTML_HINT = re.compile(
    r"<(?:p|div|br|span|html|body|blockquote|a|b|i|u|strong|em|table|tr|td|ul|ol|li|img|"
    r"h[1-6]|font|pre|code|hr|section|article)\b[^>]*>|</[a-z][a-z0-9]*\s*>|&(?:nbsp|amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)
_BLOCK_TAGS = {
    "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "section", "article", "header", "footer", "hr", "dl", "dt", "dd", "address",
}
_DROP_TAGS = {"script", "style", "head", "title", "template", "noscript", "svg", "iframe", "object"}


def looks_like_html(text: str) -> bool:
    """True when a body carries HTML markup rather than plain text."""
    return bool(_HTML_HINT.search(text))


def html_to_text(html: str) -> str:
    """Reduce HTML to readable plain text; nothing is executed or fetched.

    Block elements become line breaks and <blockquote> content is prefixed with
    "> " so quoted history stays recognisable after conversion.
    """
    soup = BeautifulSoup(html, "html.parser")
    parts: list[str] = []
    _render(soup, parts)
    text = "".join(parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _render(node: Tag, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # skip comments, doctypes, CDATA
                out.append(re.sub(r"\s+", " ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower()
        if name in _DROP_TAGS:
            continue
        if name == "br":
            out.append("\n")
        elif name == "blockquote" or "gmail_quote" in (child.get("class") or []):
            inner: list[str] = []
            _render(child, inner)
            quoted = "".join(inner).strip()
            if quoted:
                out.append("\n" + "\n".join("> " + line.strip() for line in quoted.split("\n")) + "\n")
        elif name in _BLOCK_TAGS:
            out.append("\n")
            if name == "li":
                out.append("- ")
            _render(child, out)
            out.append("\n")
        else:
            _render(child, out)


# --- the author's own words ---------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:On\s.{4,300}?\swrote:|Le\s.{4,200}?\sa\s[ée]crit\s?:|Am\s.{4,200}?\sschrieb.{0,40}:|"
    r"El\s.{4,200}?\sescribi[óo]:|Op\s.{4,200}?\sschreef.{0,40}:|"
    r"-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:|"
    r"#{1,3}-\s*Please type your reply above this line\s*-#{1,3}|-{3,}\s*Reply above this line\s*-{3,}|"
    r"_{10,})\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?From:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Cc):\*?\s", re.IGNORECASE)
_SIG_DELIM = re.compile(r"^\s*--\s*$|^\s*—\s*$")
_MOBILE_SIG = re.compile(
    r"^\s*(Sent from my\s.{1,40}|Sent from (Outlook|Mail|Yahoo Mail).{0,40}|Get Outlook for .{1,20})\s*$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many|with)\s+(?:regards|wishes|thanks)|regards|best|cheers|"
    r"sincerely|yours(?: truly| sincerely| faithfully)?|respectfully|br|thanks(?: again| so much| and regards)?|"
    r"thank you(?: so much| again)?|thx|many thanks|all the best|talk soon|saludos|cordialement|"
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*(?:CONFIDENTIALITY NOTICE|DISCLAIMER|This (?:e-?mail|message)(?: and any (?:files|attachments))?"
    r"(?: transmitted with it)? (?:is|are|may be|contains?) (?:confidential|intended))",
    re.IGNORECASE,
)
# A sign-off only starts the signature when it sits near the end of the own text.
_SIGNATURE_TAIL_LINES = 8


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, without the newline."""
    spans, start = [], 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _quote_cut(text: str, lines: list[tuple[int, int]]) -> tuple[int, set[int]]:
    """Index of the first line of trailing quoted history, and header lines to skip."""
    skip: set[int] = set()
    for i, (s, e) in enumerate(lines):
        line = text[s:e]
        two = line + " " + text[lines[i + 1][0]:lines[i + 1][1]] if i + 1 < len(lines) else line
        header = _QUOTE_HEADER.match(line) or (line.strip().startswith("On ") and _QUOTE_HEADER.match(two))
        if header:
            rest = [text[a:b] for a, b in lines[i + 1:] if text[a:b].strip()]
            if line.strip().startswith(("On ", "Le ", "Am ", "El ", "Op ")) and not line.rstrip().endswith(":"):
                rest = rest[1:]
                skip.add(i + 1)
            # "On ... wrote:" above a '>' block is inline quoting: skip only the header.
            if rest and rest[0].lstrip().startswith(">"):
                skip.add(i)
                continue
            return i, skip
        if _OUTLOOK_FROM.match(line):
            following = [text[a:b] for a, b in lines[i + 1:i + 4]]
            if sum(bool(_OUTLOOK_NEXT.match(f)) for f in following) >= 2:
                return i, skip
    return len(lines), skip


def _signature_cut(text: str, lines: list[tuple[int, int]], end: int) -> int:
    """Index of the first signature line within lines[:end]."""
    nonblank = [i for i in range(end) if text[lines[i][0]:lines[i][1]].strip()]
    tail = set(nonblank[-_SIGNATURE_TAIL_LINES:])
    for i in nonblank:
        line = text[lines[i][0]:lines[i][1]]
        if _SIG_DELIM.match(line) or _DISCLAIMER.match(line):
            return i
        if _MOBILE_SIG.match(line):
            return i
        if i in tail and i != nonblank[0] and _SIGN_OFF.match(line):
            return i
    return end


def own_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges of the author's own words: no quoted history, no signature."""
    lines = _lines(text)
    end, skip = _quote_cut(text, lines)
    end = _signature_cut(text, lines, end)
    regions: list[tuple[int, int]] = []
    for i in range(end):
        s, e = lines[i]
        if i in skip or text[s:e].lstrip().startswith(">") or not text[s:e].strip():
            continue
        if regions and text[regions[-1][1]:s].strip() == "":
            regions[-1] = (regions[-1][0], e)
        else:
            regions.append((s, e))
    return regions


def own_text(text: str) -> str:
    """The author's own words joined into one string (for scoring); empty when all is quoted."""
    return join_regions(text, own_regions(text))


def join_regions(text: str, regions: list[tuple[int, int]]) -> str:
    """The given regions of a text, one per line."""
    return "\n".join(text[s:e] for s, e in regions)


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+|(?<=[.!?])(?=[A-Z][a-z])")


def sentences(text: str, regions: list[tuple[int, int]] | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence inside the given regions, trimmed of whitespace."""
    for rs, re_ in regions if regions is not None else [(0, len(text))]:
        start = rs
        for match in _SENTENCE_END.finditer(text, rs, re_):
            yield from _trimmed(text, start, match.start())
            start = match.end()
        yield from _trimmed(text, start, re_)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        yield start, end
