"""Console sign-in: Argon2 hashes, throttling in the database, cookie flags, CSRF, roles, API tokens refused."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from plugin import tokens
from plugin.app import create_app
from plugin.cli import main
from plugin.console import auth, users
from plugin.services import services
from plugin.storage import LoginAttempt, make_engine, session_factory, upgrade

PASSWORD = "a long enough password"


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'td.db'}")
    upgrade(engine)
    return session_factory(engine)


def make_app(tmp_path, **settings):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), **settings})
    with app.app_context(), services().sessions.begin() as session:
        users.create(session, "lee", "lead", PASSWORD)
        users.create(session, "ada", "admin", PASSWORD)
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def _csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)


def signed_in(app, username: str = "lee"):
    client = app.test_client()
    response = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(client)})
    assert response.status_code == 302, response.text
    return client


@pytest.mark.parametrize("username,role,password,message", [
    ("", "lead", PASSWORD, "username"), (" lee", "lead", PASSWORD, "username"), ("x" * 101, "lead", PASSWORD, "username"),
    ("lee", "agent", PASSWORD, "role"), ("lee", "lead", "short", "at least"),
])
def test_create_refuses_bad_values(sessions, username, role, password, message):
    with sessions.begin() as session, pytest.raises(users.UserError, match=message):
        users.create(session, username, role, password)


def test_passwords_are_argon2_hashes_and_sign_in_checks_them(sessions):
    with sessions.begin() as session:
        users.create(session, "lee", "lead", PASSWORD)
        with pytest.raises(users.UserError, match="already exists"):
            users.create(session, "lee", "admin", PASSWORD)
    with sessions.begin() as session:
        from plugin.storage import ConsoleUser

        assert session.query(ConsoleUser).one().password_hash.startswith("$argon2id$")
        assert users.sign_in(session, "lee", PASSWORD, "1.2.3.4").role == "lead"
        assert users.sign_in(session, "lee", "wrong password", "1.2.3.4") is None
        assert users.sign_in(session, "nobody", PASSWORD, "1.2.3.4") is None
        users.disable(session, "lee")
        assert users.sign_in(session, "lee", PASSWORD, "1.2.3.4") is None
        assert [u["state"] for u in users.listing(session)] == ["disabled"]


def test_throttling_counts_failures_per_name_and_address_within_the_window(sessions):
    with sessions.begin() as session:
        users.create(session, "lee", "lead", PASSWORD)
        for _ in range(users.MAX_FAILURES - 1):
            users.sign_in(session, "lee", "bad", "10.0.0.1")
        assert users.retry_after(session, "lee", "10.0.0.1") is None
        users.sign_in(session, "lee", "bad", "10.0.0.1")
        wait = users.retry_after(session, "lee", "10.0.0.1")
        assert wait is not None and wait <= users.WINDOW
        assert users.retry_after(session, "lee", "10.0.0.2") is None  # another address
        assert users.retry_after(session, "other", "10.0.0.1") is None  # another name
        later = datetime.now(timezone.utc) + users.WINDOW + timedelta(seconds=1)
        assert users.retry_after(session, "lee", "10.0.0.1", now=later) is None  # failures age out


def test_a_success_resets_the_failure_count(sessions):
    with sessions.begin() as session:
        users.create(session, "lee", "lead", PASSWORD)
        for _ in range(users.MAX_FAILURES - 1):
            users.sign_in(session, "lee", "bad", "10.0.0.1")
        session.flush()
        assert users.sign_in(session, "lee", PASSWORD, "10.0.0.1") is not None
        session.flush()
        session.add(LoginAttempt(username="lee", ip="10.0.0.1", success=False,
                                 created_at=datetime.now(timezone.utc) + timedelta(seconds=1)))
        assert users.retry_after(session, "lee", "10.0.0.1") is None


def test_throttled_sign_in_answers_429_even_with_the_right_password(app):
    client = app.test_client()
    token = _csrf(client)
    for _ in range(users.MAX_FAILURES):
        assert client.post("/console/login", data={"username": "lee", "password": "nope", "csrf_token": token}).status_code == 401
    response = client.post("/console/login", data={"username": "lee", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429 and "Retry-After" in response.headers


@pytest.mark.parametrize("public_url,secure", [(None, False), ("https://td.example.com", True), ("http://td.local", False)])
def test_session_cookie_flags(tmp_path, public_url, secure):
    app = make_app(tmp_path, **({"public_url": public_url} if public_url else {}))
    client = app.test_client()
    response = client.post("/console/login", data={"username": "lee", "password": PASSWORD, "csrf_token": _csrf(client)},
                           base_url="https://localhost" if secure else "http://localhost",
                           headers={"Referer": "https://localhost/console/login"} if secure else {})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure


def test_forms_need_the_csrf_token(app):
    client = app.test_client()
    assert client.post("/console/login", data={"username": "lee", "password": PASSWORD}).status_code == 400
    signed = signed_in(app)
    assert signed.post("/console/tickets/generic/T-1/handled").status_code == 400


def test_webhooks_and_api_are_not_subject_to_csrf(app):
    assert app.test_client().post("/webhooks/generic", data=b"{}").status_code == 401  # refused by signature, not CSRF


def test_signed_out_pages_redirect_and_posts_get_401(app):
    client = app.test_client()
    response = client.get("/console/customers")
    assert response.status_code == 302 and response.headers["Location"] == "/console/login?next=/console/customers"
    client.get("/console/login")
    assert client.post("/console/tickets/generic/T-1/handled", data={"csrf_token": _csrf(client)}).status_code == 401


def test_api_tokens_do_not_open_console_pages(app):
    with app.app_context(), services().sessions.begin() as session:
        token = tokens.create(session, "t", "admin")
    response = app.test_client().get("/console/queue", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "API tokens do not open console pages" in response.text


def test_role_required_refuses_a_lead_from_admin_views(app):
    app.add_url_rule("/console/_probe", "probe", auth.role_required("admin")(lambda: "admin only"))
    assert signed_in(app, "lee").get("/console/_probe").status_code == 403
    assert signed_in(app, "ada").get("/console/_probe").text == "admin only"
    with pytest.raises(ValueError):
        auth.role_required("agent")


@pytest.mark.parametrize("target,expected", [
    ("/console/customers", "/console/customers"), ("//evil.example/console", "/console/queue"),
    ("https://evil.example/console", "/console/queue"), ("/docs", "/console/queue"), ("/console\\@evil", "/console/queue"),
])
def test_sign_in_only_returns_to_console_paths(app, target, expected):
    with app.test_request_context():
        assert auth._safe_next(target) == expected


def test_console_pages_send_security_headers(app):
    response = signed_in(app).get("/console/queue")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_users_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    created = runner.invoke(main, ["users", "create", "--role", "lead", "--password-stdin", "dana"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    prompted = runner.invoke(main, ["users", "create", "--role", "admin", "sam"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert runner.invoke(main, ["users", "create", "--role", "lead", "--password-stdin", "x"], input="short\n").exit_code == 1
    assert runner.invoke(main, ["users", "disable", "dana"]).exit_code == 0
    assert runner.invoke(main, ["users", "disable", "nobody"]).exit_code == 1
    listed = runner.invoke(main, ["users", "list"]).output
    assert '"username": "dana"' in listed and '"state": "disabled"' in listed and "argon2" not in listed


@pytest.mark.parametrize("hops,blocked_elsewhere", [(0, True), (1, False)])
def test_behind_a_proxy_throttling_counts_the_forwarded_client(tmp_path, hops, blocked_elsewhere):
    """With TRUSTDESK_PROXY_HOPS the client's own address counts, so one client cannot lock out everyone."""
    app = make_app(tmp_path, proxy_hops=hops)
    client = app.test_client()
    token = _csrf(client)
    for _ in range(users.MAX_FAILURES):
        client.post("/console/login", data={"username": "lee", "password": "nope", "csrf_token": token},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    other = client.post("/console/login", data={"username": "lee", "password": PASSWORD, "csrf_token": token},
                        headers={"X-Forwarded-For": "198.51.100.9"})
    assert (other.status_code == 429) is blocked_elsewhere


def test_unknown_console_pages_are_pages_and_the_api_stays_json(app):
    client = app.test_client()
    page = client.get("/console/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get("/api/v1/no-such-thing").is_json
