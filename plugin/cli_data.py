"""`trustdesk tokens` and `trustdesk customers`: API bearer tokens, and one customer's data exported or erased."""

from __future__ import annotations

import json

import click


def _sessions():
    """Sessions on the configured, migrated database (imported late: `python -m plugin.cli` runs cli as __main__)."""
    from .cli import _sessions as sessions

    return sessions()


@click.group("tokens")
def tokens_group() -> None:
    """API bearer tokens (roles: agent, lead, admin)."""


@tokens_group.command("create")
@click.option("--role", required=True, type=click.Choice(["agent", "lead", "admin"]))
@click.option("--name", default="", help="What the token is for (shown in listings).")
@click.option("--expires", "expires_days", type=click.IntRange(min=1), default=None, help="Days until it expires.")
def tokens_create(role: str, name: str, expires_days: int | None) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from . import tokens

    with _sessions().begin() as session:
        token = tokens.create(session, name or role, role, expires_days)
    click.echo(token)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never the tokens themselves)."""
    from . import tokens

    with _sessions()() as session:
        for row in tokens.listing(session):
            click.echo(json.dumps(row))


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from . import tokens

    try:
        with _sessions().begin() as session:
            tokens.revoke(session, token_id)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {token_id}")


@click.group()
def customers() -> None:
    """One customer's data: export or erase it."""


@customers.command("export")
@click.argument("customer_id")
@click.option("--source", default="generic", show_default=True, help="The integration the customer came from.")
def customers_export(customer_id: str, source: str) -> None:
    """Print everything stored about a customer as JSON."""
    from . import privacy

    with _sessions()() as session:
        data = privacy.export(session, customer_id, source)
    if data is None:
        raise click.ClickException(f"no {source} customer with id {customer_id!r}")
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@customers.command("erase")
@click.argument("customer_id")
@click.option("--source", default="generic", show_default=True, help="The integration the customer came from.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def customers_erase(customer_id: str, source: str, yes: bool) -> None:
    """Erase a customer and everything stored about them."""
    from . import privacy

    if not yes:
        click.confirm(f"Erase {source} customer {customer_id} and all their tickets?", abort=True)
    with _sessions().begin() as session:
        found = privacy.erase(session, customer_id, source)
    if not found:
        raise click.ClickException(f"no {source} customer with id {customer_id!r}")
    click.echo(f"erased {source} customer {customer_id}")
