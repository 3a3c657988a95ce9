"""`trustdesk users create|list|disable`: console accounts for leads and admins (thin wrappers over users.py)."""

from __future__ import annotations

import json
import sys

import click

from . import users


def _sessions():
    from ..cli import _sessions as sessions

    return sessions()


@click.group("users")
def users_group() -> None:
    """Console users (roles: lead reviews, admin also tunes)."""


@users_group.command("create")
@click.option("--role", required=True, type=click.Choice(users.ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.argument("username")
def users_create(role: str, username: str, password_stdin: bool) -> None:
    """Create a console user; the password is asked for twice (or read from stdin) and stored as an Argon2 hash."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _sessions().begin() as session:
            user = users.create(session, username, role, password)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.username}: sign in at /console/login")


@users_group.command("list")
def users_list() -> None:
    """List console users, one JSON object a line (never the password hashes)."""
    with _sessions()() as session:
        for row in users.listing(session):
            click.echo(json.dumps(row))


@users_group.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable a user: they are signed out on their next request and cannot sign in again."""
    try:
        with _sessions().begin() as session:
            users.disable(session, username)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"disabled {username}")
