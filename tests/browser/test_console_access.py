"""Who may open what: sign-in by keyboard, roles, API tokens refused, throttled guessing, CSRF, sign-out."""

from __future__ import annotations

import pytest
import requests

from plugin import tokens


def test_lead_signs_in_with_the_keyboard_only(page, live_server, make_user, shot):
    name = make_user("lead")
    page.goto(f"{live_server.url}/console/")  # the ticket links in helpdesk notes land here when signed out
    page.wait_for_url("**/console/login?next=/console/")
    shot(page, "login")
    page.keyboard.type(name)  # the username field has focus
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/console/")
    assert page.get_by_role("heading", name="Review queue").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_admin_signs_in_and_sees_the_admin_link(page, login, shot):
    login(page, "admin")
    assert page.get_by_role("link", name="Admin").is_visible()
    shot(page, "queue-admin")


def test_a_lead_is_refused_from_admin_pages(page, live_server, login, shot):
    if not any(rule.rule.startswith("/console/admin") for rule in live_server.app.url_map.iter_rules()):
        pytest.skip("the admin pages (plugin/console/admin.py) are not there yet")
    login(page, "lead")
    response = page.goto(f"{live_server.url}/console/admin")
    assert response.status == 403
    assert "needs the admin role" in page.locator("#error-detail").inner_text()
    shot(page, "admin-refused-for-lead")


@pytest.mark.parametrize("path", ["/console/", "/console/queue", "/console/customers", "/console/tickets/generic/T-1"])
def test_an_api_token_does_not_open_console_pages(live_server, path):
    with live_server.sessions().begin() as session:
        token = tokens.create(session, "sidebar", "admin")
    response = requests.get(live_server.url + path, headers={"Authorization": f"Bearer {token}"},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 401
    assert "API tokens do not open console pages" in response.text


def test_api_token_in_the_browser_is_refused(browser, live_server, shot):
    with live_server.sessions().begin() as session:
        token = tokens.create(session, "sidebar", "admin")
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
    try:
        page = context.new_page()
        assert page.goto(f"{live_server.url}/console/queue").status == 401
        shot(page, "api-token-refused")
    finally:
        context.close()


def test_login_throttling_locks_out_after_five_failures(page, live_server, make_user, sign_in, shot):
    name = make_user("lead")
    for _ in range(5):
        sign_in(page, name, "wrong password!")
        assert "Wrong username or password" in page.locator("#login-error").inner_text()
    sign_in(page, name)  # the right password is refused too while locked out
    assert "Too many failed sign-ins" in page.locator("#login-error").inner_text()
    assert "/console/login" in page.url
    shot(page, "login-throttled")
    other = make_user("lead")  # another account from the same address is not locked
    sign_in(page, other)
    page.wait_for_url("**/console/queue")


def test_forms_without_a_csrf_token_are_refused(page, live_server, login):
    login(page, "lead")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = requests.post(f"{live_server.url}/console/logout", cookies=cookies, allow_redirects=False, timeout=30)
    assert response.status_code == 400 and "CSRF" in response.text
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    assert page.goto(f"{live_server.url}/console/queue").url.endswith("/console/login?next=/console/queue")


def test_a_disabled_user_is_signed_out(page, live_server, login):
    from plugin.console import users

    name = login(page, "lead")
    with live_server.sessions().begin() as session:
        users.disable(session, name)
    page.goto(f"{live_server.url}/console/queue")
    assert "/console/login" in page.url
