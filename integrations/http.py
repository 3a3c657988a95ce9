"""One way to call a helpdesk's API: a requests Session with timeouts, and answers mapped to typed errors.

Every adapter's calls go through `ApiClient.request`, so rate limits and
outages are handled the same way everywhere: a timeout, a refused connection,
a 429 or a 5xx raises RetryLater (carrying how long the platform asked us to
wait, from whichever header it uses), and any other refusal raises AdapterError,
which the service does not retry.
"""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator, Mapping

import requests

from .base import AdapterError, RetryLater

DEFAULT_TIMEOUT = 10.0
# Headers that say how long to wait, in the order we trust them. Help Scout sends
# X-RateLimit-Retry-After; Intercom and Front a reset time (unix seconds);
# Jira an ISO 8601 reset time.
_RESET_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reset")


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _reset_wait(value: str | None, now: float) -> float | None:
    """Seconds until a rate-limit reset given as unix seconds, seconds from now, or an ISO 8601 time."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            return max(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now, 0.0)
        except ValueError:
            return None
    # A small number is a delay; a large one is a moment (unix seconds).
    return max(number - now, 0.0) if number > 1e9 else max(number, 0.0)


def wait_hint(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long a rate-limited or unavailable platform asked us to wait, from any header it uses."""
    now = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after", "x-ratelimit-retry-after"):
        seconds = retry_after(lowered.get(name), now)
        if seconds is not None:
            return seconds
    for name in _RESET_HEADERS:
        seconds = _reset_wait(lowered.get(name.lower()), now)
        if seconds is not None:
            return seconds
    return None


class ApiClient:
    """Calls to one platform's API: base URL, auth and headers set once, errors typed."""

    def __init__(self, base_url: str, *, auth: Any = None, headers: Mapping[str, str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.timeout = timeout

    def url(self, path: str) -> str:
        """An absolute URL for an API path (absolute URLs, as in pagination links, pass through)."""
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; raise RetryLater or AdapterError unless the answer is a 2xx."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        try:
            response = self.session.request(method, self.url(path), **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise RetryLater(f"{method} {path}: platform unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryLater(f"{method} {path}: platform answered {status}", wait_hint(response.headers))
        if not 200 <= status < 300:
            raise AdapterError(f"{method} {path}: platform answered {status}: {_excerpt(response)}")
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON answer (None for an empty one)."""
        return _decoded(self.request(method, path, **kwargs), method, path)

    def pages(self, path: str, next_url: Callable[[Any, requests.Response], str | None],
              params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Each page (JSON) of a list whose answers name the next page's URL (in a header or the body).

        `params` go with the first request only: a next URL carries its own query.
        A next URL seen before ends the walk, so a server that loops cannot hang us.
        """
        url: str | None = path
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            response = self.request("GET", url, params=params if url == path else None)
            page = _decoded(response, "GET", url)
            yield page
            url = next_url(page, response)

    def numbered_pages(self, path: str, params: Mapping[str, Any], key: str = "page") -> Iterator[Any]:
        """Pages 1, 2, 3... (JSON) of a list paged by number, for as long as the caller reads on."""
        number = 1
        while True:
            yield self.json("GET", path, params={**params, key: number})
            number += 1

    def searched_pages(self, path: str, query: dict,
                       next_query: Callable[[dict, Any], dict | None]) -> Iterator[Any]:
        """Each page (JSON) of a POSTed search whose next query carries a cursor from the previous answer."""
        current: dict | None = query
        while current is not None:
            page = self.json("POST", path, json=current) or {}
            yield page
            current = next_query(current, page)


def link_next(page: Any, response: requests.Response) -> str | None:
    """The URL of a `Link: <...>; rel="next"` header (RFC 8288), for `ApiClient.pages`."""
    return response.links.get("next", {}).get("url")


def _decoded(response: requests.Response, method: str, path: str) -> Any:
    """An answer's JSON (None when empty), or AdapterError."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise AdapterError(f"{method} {path}: the answer is not JSON") from None


def _excerpt(response: requests.Response, limit: int = 200) -> str:
    """The start of an error answer, for the dead-letter list (platform error bodies hold no message text)."""
    return response.text[:limit].replace("\n", " ")
