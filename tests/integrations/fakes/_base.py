"""The skeleton every fake platform API shares: one `responses` callback, a route table, failures on demand.

A fake subclass names its platform, base URL and credentials and lists its
routes; this class logs each request (`.requests`, as `Call`s), fails the next
one on demand (`fail_next`), answers 401 to wrong credentials, 404 to a ticket
it does not hold, and fails the test loudly on a route it does not know.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A handler gets the call and the route's groups, and answers (status, body) or (status, body, headers);
# a body that is not text is sent as JSON, None as an empty body.
Handler = Callable[..., tuple]


@dataclass(frozen=True)
class Call:
    """One request a fake received, for tests to inspect afterwards."""

    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: Any
    json: Any

    @classmethod
    def of(cls, request: Any) -> "Call":
        """The call a `responses` request stands for (its JSON body parsed where it is JSON)."""
        parts = urlsplit(request.url)
        return cls(request.method, request.url, parts.path, parse_qs(parts.query), request.headers,
                   request.body, _parsed(request.body))

    @property
    def params(self) -> dict[str, str]:
        """The query with one value a name (the last)."""
        return {k: v[-1] for k, v in self.query.items()}


def _parsed(body: Any) -> Any:
    """A request body as JSON, or None (no body, a form)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class FakeApi:
    """Base of the fake platform APIs: subclasses set the class attributes and write `routes`."""

    platform: ClassVar[str] = ""
    base_url: ClassVar[str] = ""
    # The header every call must carry, and its value.
    auth_header: ClassVar[str] = "Authorization"
    auth_value: ClassVar[str] = ""
    # Where a route's first group is a ticket id, any other id is answered 404.
    ticket_id: ClassVar[str | None] = None
    failure_body: ClassVar[Any] = {"error": "failing on purpose"}
    unauthorized_body: ClassVar[Any] = {"error": "unauthorized"}

    def __init__(self, rsps: Any):
        self.requests: list[Call] = []
        self._failure: tuple[int, dict] | None = None
        pattern = re.compile(re.escape(self.base_url) + r"(/.*)?")
        for method in METHODS:
            rsps.add_callback(method, pattern, callback=self._dispatch)

    def fail_next(self, status: int, headers: Mapping[str, str]) -> None:
        """Make the next request, whatever it is, fail once with `status` and `headers`."""
        self._failure = (status, dict(headers))

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        """(method, path pattern, handler) for every endpoint the fake serves."""
        raise NotImplementedError

    def authorized(self, call: Call) -> bool:
        """Whether the call carries the credentials the adapter was configured with."""
        return call.headers.get(self.auth_header) == self.auth_value

    def _dispatch(self, request: Any) -> tuple[int, dict, str]:
        call = Call.of(request)
        self.requests.append(call)
        if self._failure:
            (status, headers), self._failure = self._failure, None
            return status, headers, json.dumps(self.failure_body)
        if not self.authorized(call):
            return 401, {}, json.dumps(self.unauthorized_body)
        for method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, call.path)
            if method == call.method and match:
                if self.ticket_id and match.groups() and match.group(1) != self.ticket_id:
                    return 404, {"Content-Type": "application/json"}, json.dumps({"error": "not found"})
                return _answer(*handler(call, *match.groups()))
        raise AssertionError(f"the fake {self.platform} API has no {call.method} {call.path}")


def _answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, dict, str]:
    """A handler's answer as `responses` wants it."""
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    return status, {"Content-Type": "application/json", **(headers or {})}, text
