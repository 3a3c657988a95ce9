"""API test helpers: an app with one token per role, a ticket stored through the webhook, calls by role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from integrations.generic.adapter import signed_headers
from plugin import tokens
from plugin.app import create_app
from plugin.services import services

API_SECRET = "api-test-secret"
GENERIC_TICKET = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


@dataclass
class Api:
    """An app and a client that call as a role."""

    app: object
    tokens: dict[str, str]

    def __post_init__(self):
        self.client = self.app.test_client()

    def call(self, method: str, path: str, role: str | None = "admin", **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def deliver(self, body: bytes | None = None):
        body = body or GENERIC_TICKET.read_bytes()
        response = self.client.post("/webhooks/generic", data=body, headers=signed_headers(API_SECRET, body))
        assert response.status_code == 200, response.json
        return response.json

    def session(self):
        with self.app.app_context():
            return services().sessions()


def make_api(data_dir: Path, database_url: str | None = None, **config) -> Api:
    """An app with one token per role (named 'test ROLE')."""
    settings = {"TESTING": True, "data_dir": str(data_dir), "generic_webhook_secret": API_SECRET, **config}
    if database_url:
        settings["database_url"] = database_url
    app = create_app(settings)
    made = {}
    with app.app_context(), services().sessions.begin() as session:
        for role in tokens.ROLES:
            made[role] = tokens.create(session, f"test {role}", role)
    return Api(app, made)


@pytest.fixture
def api(tmp_path) -> Api:
    """The API on SQLite."""
    return make_api(tmp_path / "var")


@pytest.fixture
def api_db(tmp_path, database_url) -> Api:
    """The API on each supported database."""
    return make_api(tmp_path / "var", database_url)


@pytest.fixture(scope="session")
def api_maker():
    """make_api, for module-scoped fixtures."""
    return make_api
