"""Optional language-model backend for rewrites and reply suggestions, with personal data redacted first.

Trustdesk's guidance works without any model: the classifiers and playbooks run
locally. A chat model can polish a rewrite or suggest replies, but it is a third
party reading customer conversations, so it stays off unless a deployment points
TRUSTDESK_LLM_URL at an endpoint it trusts, and every caller must cope with
`ChatBackend.from_env()` returning None. Even when it is on, emails, phone
numbers, card and account numbers are swapped for placeholders before anything
leaves the process and put back only in the answer shown to the agent: the
model needs none of them to fix tone, and what is never sent cannot be leaked,
logged or trained on.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import requests

_PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|ACCOUNT)_(\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Redaction:
    """Text with personal data replaced by placeholders, and how to put it back."""

    text: str
    mapping: dict[str, str]

    def restore(self, text: str) -> str:
        """Put the originals back into a model answer; placeholders we never issued stay as written."""

        def original(match: re.Match[str]) -> str:
            key = f"[{match.group(1).upper()}_{match.group(2)}]"
            return self.mapping.get(key, match.group(0))

        return _PLACEHOLDER.sub(original, text)


# Detectors run in this order and each claims its spans before the next looks,
# so an email's digits are never a phone and a reference's digits never an account.
_SEP = r"(?:[ \t]?[-./][ \t]?|[ \t])"
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_REFERENCE = re.compile(r"[A-Za-z0-9]+(?:[-_/][A-Za-z0-9]+)*")
_CARD = re.compile(r"(?<![\w+(])\d(?:[ .-]?\d){12,18}(?!\w)")
_DATE = re.compile(
    r"(?<!\w)(?:(?:19|20)\d\d([-./])[01]?\d\1[0-3]?\d"  # 2026-03-14
    r"|[0-3]?\d([-./])[0-3]?\d\2(?:19|20)\d\d"  # 14/03/2026, 03/14/2026
    r"|(?:19|20)\d\d ?[-\u2013] ?(?:19|20)\d\d)(?!\w)"  # 2024-2025
)
_LABELLED_ACCOUNT = re.compile(
    r"\b(?:account|acct|a/c|sort[ -]?code)s?\.?(?:\s*(?:number|num|no\.?|#))?\s*(?:is\s+|[:#=]\s*)?"
    r"(?P<value>\d(?:[ -]?\d){3,})(?!\d)",
    re.IGNORECASE,
)
_EXT = r"[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6}"
_EXTENSION = re.compile(_EXT + "$", re.IGNORECASE)
_PHONE = re.compile(
    rf"(?<![\w+])(?:\+\d{{1,3}}{_SEP}?)?(?:\(\d{{1,5}}\){_SEP}?)?\d(?:{_SEP}?\d)+(?:{_EXT})?(?!\w)",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"(?<!\w)\d(?:[ .-]?\d){7,}(?!\w)")
_AMOUNT = re.compile(r"\d+[.,]\d{1,2}")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _is_iban(value: str) -> bool:
    compact = value.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _is_reference(value: str) -> bool:
    # "0958x12" is the tail of a phone number with its extension, not a reference.
    mixed = any(c.isalpha() for c in value) and any(c.isdigit() for c in value)
    return mixed and not re.fullmatch(r"\d+(?:x|ext)\d+", value, re.IGNORECASE)


def _is_card(value: str) -> bool:
    digits = _digits(value)
    return 13 <= len(digits) <= 19 and digits[0] != "0" and _luhn(digits)


def _is_phone(value: str) -> bool:
    # A bare run of digits is a phone only in local format (trunk prefix 0);
    # otherwise 8+ bare digits are an account and 7 are too often an order number.
    number = _EXTENSION.sub("", value)
    shaped = number[0] in "+(0" or not number.isdigit()
    return 7 <= len(_digits(number)) <= 15 and shaped and not _AMOUNT.fullmatch(number)


def _is_account(value: str) -> bool:
    return not _AMOUNT.fullmatch(value)


def _always(value: str) -> bool:
    return True


def _find_ibans(text: str) -> Iterator[tuple[int, int]]:
    # The pattern may swallow a following upper-case word; drop trailing groups until mod-97 holds.
    for match in _IBAN.finditer(text):
        value = match.group(0)
        while len(value.replace(" ", "")) >= 15 and not _is_iban(value):
            value = value.rsplit(" ", 1)[0] if " " in value else ""
        if value:
            yield match.start(), match.start() + len(value)


def _matches(pattern: re.Pattern[str], valid: Callable[[str], bool]) -> Callable[[str], Iterator[tuple[int, int]]]:
    group = "value" if "value" in pattern.groupindex else 0

    def find(text: str) -> Iterator[tuple[int, int]]:
        for match in pattern.finditer(text):
            if valid(match.group(group)):
                yield match.span(group)

    return find


# (kind, finder); kind None marks text kept as written: order references and dates.
_DETECTORS: tuple[tuple[str | None, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    ("EMAIL", _matches(_EMAIL, _always)),
    ("ACCOUNT", _find_ibans),
    (None, _matches(_REFERENCE, _is_reference)),
    ("CARD", _matches(_CARD, _is_card)),
    (None, _matches(_DATE, _always)),
    ("ACCOUNT", _matches(_LABELLED_ACCOUNT, _always)),
    ("PHONE", _matches(_PHONE, _is_phone)),
    ("ACCOUNT", _matches(_DIGIT_RUN, _is_account)),
)


def _spans(text: str) -> list[tuple[int, int, str]]:
    """Personal-data spans in text, in order, earlier detectors winning any overlap."""
    work, found = text, []
    for kind, find in _DETECTORS:
        spans = list(find(work))
        for start, end in spans:
            work = work[:start] + "\0" * (end - start) + work[end:]
        found += [(start, end, kind) for start, end in spans if kind is not None]
    return sorted(found)


class _Redactor:
    """Placeholders shared across several texts, so one value reads the same everywhere."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._issued: dict[tuple[str, str], str] = {}

    def __call__(self, text: str) -> str:
        parts, last = [], 0
        for start, end, kind in _spans(text):
            parts += [text[last:start], self._placeholder(kind, text[start:end])]
            last = end
        return "".join(parts) + text[last:]

    def _placeholder(self, kind: str, value: str) -> str:
        if (kind, value) not in self._issued:
            number = sum(1 for issued_kind, _ in self._issued if issued_kind == kind) + 1
            self._issued[(kind, value)] = f"[{kind}_{number}]"
            self.mapping[f"[{kind}_{number}]"] = value
        return self._issued[(kind, value)]


def redact(text: str) -> Redaction:
    """Replace emails, phone, card and account numbers with placeholders before text leaves us."""
    return _redact_together([text])[0]


def _redact_together(texts: Sequence[str]) -> list[Redaction]:
    """Redact several texts with one set of placeholders; each result restores any of them."""
    redactor = _Redactor()
    redacted = [redactor(text) for text in texts]
    return [Redaction(text, dict(redactor.mapping)) for text in redacted]


class LLMError(RuntimeError):
    """The language model could not be configured or did not answer usefully; the message says which."""


_RULES = (
    "Placeholders such as [EMAIL_1], [PHONE_1], [CARD_1] and [ACCOUNT_1] stand for the customer's details: "
    "copy them exactly and never invent new ones. Where a specific time or date is needed but not known, "
    "write [time] or [date]. Never claim an action (a refund, a fix, an escalation) that the text does not "
    "say someone has taken."
)
_REWRITE_SYSTEM = (
    "You rewrite replies drafted by customer-support agents. Speak as the company and take ownership "
    '("we"). Turn blame of the customer or of another team into a joint statement of the problem. Turn '
    "deflection (\"contact X\", \"not our department\") into next steps we own, phrased as commitments "
    '("we will ..."). Keep every listed fact word for word. ' + _RULES + " Answer with the rewritten reply "
    "only: no preamble, no notes, no quotation marks."
)
_SUGGEST_SYSTEM = (
    "You write short replies for customer-support agents. Each reply takes ownership (\"we\"), names the "
    "problem without blaming anyone, and commits to a next step we own. " + _RULES + " Answer with the "
    "replies only, separated by a line containing only ---."
)
_REPLY_SEPARATOR = re.compile(r"^[ \t]*-{3,}[ \t]*$", re.MULTILINE)


def _check_url(url: str, name: str) -> str:
    """The URL if it is an absolute http(s) URL, else an LLMError naming where it came from."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LLMError(f"{name} must be an http(s) URL such as https://host/v1/chat/completions")
    return url


def _check_timeout(timeout: float, name: str) -> float:
    """The timeout if it is a positive finite number of seconds, else an LLMError naming it."""
    if not math.isfinite(timeout) or timeout <= 0:
        raise LLMError(f"{name} must be a positive number of seconds, got {timeout!r}")
    return timeout


def _parse_timeout(raw: str, name: str) -> float:
    """Seconds from an environment variable's text, or an LLMError naming the variable."""
    try:
        seconds = float(raw)
    except ValueError:
        raise LLMError(f"{name} must be a positive number of seconds, got {raw!r}") from None
    return _check_timeout(seconds, name)


def _answer_text(response: requests.Response) -> str:
    """choices[0].message.content of a chat-completions answer, stripped, or an LLMError."""
    try:
        data = response.json()
    except ValueError:
        raise LLMError("language model answered with invalid JSON") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError("language model answer has no choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise LLMError("language model answered with empty content")
    return content.strip()


class ChatBackend:
    """An OpenAI-compatible chat-completions endpoint, off unless configured."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 8.0,
        session: requests.Session | None = None,
    ) -> None:
        if not model:
            raise LLMError("model must name the language model to use")
        self.url = _check_url(url, "url")
        self.model = model
        self.api_key = api_key
        self.timeout = _check_timeout(timeout, "timeout")
        self.session = session or requests.Session()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ChatBackend | None:
        """The backend configured by TRUSTDESK_LLM_* variables, or None when the deployment has not turned it on."""
        url = environ.get("TRUSTDESK_LLM_URL", "").strip()
        if not url:
            return None
        model = environ.get("TRUSTDESK_LLM_MODEL", "").strip()
        if not model:
            raise LLMError("TRUSTDESK_LLM_MODEL must name the model when TRUSTDESK_LLM_URL is set")
        raw_timeout = environ.get("TRUSTDESK_LLM_TIMEOUT", "").strip()
        timeout = _parse_timeout(raw_timeout, "TRUSTDESK_LLM_TIMEOUT") if raw_timeout else 8.0
        api_key = environ.get("TRUSTDESK_LLM_API_KEY", "").strip() or None
        return cls(_check_url(url, "TRUSTDESK_LLM_URL"), model, api_key, timeout)

    def complete(self, system: str, user: str) -> str:
        """Ask the model once and return its answer, or raise LLMError saying what went wrong."""
        payload = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0.2,
        }
        return _answer_text(self._post(payload))

    def rewrite(self, draft: str, facts: list[str]) -> str:
        """Rewrite an agent's draft to take ownership, keeping its facts; personal data never leaves."""
        draft_redacted, *facts_redacted = _redact_together([draft, *facts])
        listed = "\n".join(f"- {fact.text}" for fact in facts_redacted) or "(none)"
        user = f"Draft:\n{draft_redacted.text}\n\nFacts to keep word for word:\n{listed}"
        return draft_redacted.restore(self.complete(_REWRITE_SYSTEM, user))

    def suggest(self, summary: str, customer_message: str, n: int = 2) -> list[str]:
        """Up to n short ownership-taking replies to the customer's message; personal data never leaves."""
        if n < 1:
            raise ValueError("n must be at least 1")
        summary_redacted, message_redacted = _redact_together([summary, customer_message])
        user = (
            f"Ticket summary:\n{summary_redacted.text}\n\nCustomer's latest message:\n{message_redacted.text}"
            f"\n\nWrite {n} different replies."
        )
        answer = self.complete(_SUGGEST_SYSTEM, user)
        replies = [part.strip() for part in _REPLY_SEPARATOR.split(answer)]
        return [summary_redacted.restore(reply) for reply in replies if reply][:n]

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _post(self, payload: dict) -> requests.Response:
        """POST the payload; any failure, including a non-2xx status, becomes an LLMError."""
        try:
            # Redirects are not followed: a redacted prompt goes to the configured host and nowhere else.
            response = self.session.post(
                self.url, json=payload, headers=self._headers(), timeout=self.timeout, allow_redirects=False
            )
        except requests.exceptions.Timeout as exc:
            raise LLMError(f"language model did not answer within {self.timeout:g}s (timed out)") from exc
        except requests.exceptions.ConnectionError as exc:
            raise LLMError("could not connect to the language model endpoint") from exc
        except requests.exceptions.RequestException as exc:
            raise LLMError(f"language model request failed: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise LLMError(f"language model answered HTTP {response.status_code}")
        return response
