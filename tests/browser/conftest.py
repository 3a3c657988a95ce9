"""Browser test fixtures: the app on a real server in a thread, Debian's Chromium driven by Playwright, helpers.

`live_server` serves a fresh app (its own data dir and SQLite) on a free port;
override the `server_settings` fixture in a test module to pass settings.
`browser` launches /usr/bin/chromium (never `playwright install`); without it,
or without playwright, the tests skip saying why, unless
TRUSTDESK_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.generic.adapter import signed_headers
from plugin.app import create_app
from plugin.console import users
from plugin.services import services

CHROMIUM = Path(os.environ.get("TRUSTDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
WEBHOOK_SECRET = "browser-test-secret"
PASSWORD = "correct horse battery"
REQUIRE_SERVICES = os.environ.get("TRUSTDESK_REQUIRE_SERVICES") == "1"
GENERIC_TICKET = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"browser tests required (TRUSTDESK_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(reason)


@dataclass
class LiveServer:
    """A running app: its base URL, the Flask app (for direct set-up) and the settings it was built with."""

    url: str
    app: Any
    settings: dict[str, Any]

    def sessions(self):
        """A database session factory of the served app."""
        with self.app.app_context():
            return services().sessions


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Extra settings for the served app (override in a test module)."""
    return {}


@pytest.fixture
def live_server(tmp_path, server_settings):
    """The app served by werkzeug in a thread on a free port, with a fresh data dir and SQLite."""
    from werkzeug.serving import make_server

    settings = {"data_dir": str(tmp_path / "var"), "generic_webhook_secret": WEBHOOK_SECRET, **server_settings}
    app = create_app({"TESTING": True, **settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, settings)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def _playwright():
    """One Playwright driver for the run."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(_playwright):
    """Debian's Chromium, headless, launched by Playwright."""
    chromium = _playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page at 1280px wide."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def make_user(live_server: LiveServer, role: str, username: str | None = None, password: str = PASSWORD) -> str:
    """Create a console user in the served app's database; returns the username."""
    username = username or f"{role}-{uuid.uuid4().hex[:6]}"
    with live_server.sessions().begin() as session:
        users.create(session, username, role, password, actor="test")
    return username


def sign_in(page, live_server: LiveServer, username: str, password: str = PASSWORD) -> None:
    """Fill and submit the sign-in form."""
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def login(live_server):
    """login(page, role) creates a user with that role and signs in; returns the username."""

    def run(page, role: str, username: str | None = None) -> str:
        name = make_user(live_server, role, username)
        sign_in(page, live_server, name)
        page.wait_for_url(f"{live_server.url}/console/**")
        assert page.get_by_role("button", name=f"Sign out {name}").is_visible()
        return name

    return run


def generic_ticket(ticket_id: str = "T-1042", **changes: Any) -> dict[str, Any]:
    """The generic fixture's ticket with another id and any field changed."""
    body = json.loads(GENERIC_TICKET.read_text())["ticket"]
    return {**body, "id": ticket_id, **changes}


@pytest.fixture
def deliver(live_server):
    """deliver(ticket=None, event_id=None) posts a signed generic webhook to the served app; returns its JSON."""

    def run(ticket: dict[str, Any] | None = None, event_id: str | None = None) -> dict:
        body = json.dumps({"event_id": event_id or f"evt-{uuid.uuid4().hex[:10]}",
                           "ticket": ticket or generic_ticket()}).encode("utf-8")
        response = requests.post(f"{live_server.url}/webhooks/generic", data=body,
                                 headers=signed_headers(WEBHOOK_SECRET, body), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    return run


def shot(page, name: str) -> Path:
    """Save a full-page screenshot to tests/browser/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(name="shot")
def shot_fixture():
    """shot(page, name): save a screenshot under tests/browser/screenshots/."""
    return shot


@pytest.fixture(name="make_user")
def make_user_fixture(live_server):
    """make_user(role, username=None, password=PASSWORD): a console user in the served app."""
    return lambda role, username=None, password=PASSWORD: make_user(live_server, role, username, password)


@pytest.fixture(name="sign_in")
def sign_in_fixture(live_server):
    """sign_in(page, username, password=PASSWORD): fill and submit the sign-in form."""
    return lambda page, username, password=PASSWORD: sign_in(page, live_server, username, password)


@pytest.fixture(name="generic_ticket")
def generic_ticket_fixture():
    """generic_ticket(ticket_id, **changes): the generic fixture's ticket, changed."""
    return generic_ticket
