"""The lead's pages: review queue, ticket page with its actions, customers at risk (thin views)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from .. import ledger, runtime
from ..services import services
from . import customers as customer_pages
from . import review, tickets
from .auth import current_user, error_pages, role_required

bp = Blueprint("console", __name__, url_prefix="/console")
error_pages(bp)


def _default_value() -> float:
    return ledger.average_value(services().settings.extra)


@bp.get("/")
@bp.get("/queue")
@role_required("lead")
def queue():
    """Flagged tickets, riskiest first or by value at risk, with the filters the lead chose."""
    try:
        filters = review.parse_filters(request.args.to_dict())
    except review.FilterError as exc:
        abort(400, str(exc))
    s = services()
    with s.sessions() as session:
        thresholds = runtime.current_thresholds(session, s.analyzer)
        rows = review.queue(session, thresholds, filters, _default_value())
        choices = review.filter_choices(session)
    return render_template("console/queue.html", rows=rows, filters=filters, choices=choices,
                           labels=review.LABEL_NAMES, nav_active="queue", max_rows=review.MAX_ROWS)


def _ticket_or_404(session, source: str, external_id: str):
    ticket = tickets.find(session, source, external_id)
    if ticket is None:
        abort(404, f"No stored ticket {external_id!r} from {source!r}: it arrives with its first webhook.")
    return ticket


@bp.get("/tickets/<source>/<path:external_id>")
@role_required("lead")
def ticket(source: str, external_id: str):
    """One ticket: conversation with flagged spans highlighted, guidance and its use, lead actions."""
    s = services()
    with s.sessions() as session:
        found = _ticket_or_404(session, source, external_id)
        thresholds = runtime.current_thresholds(session, s.analyzer)
        content = tickets.page(session, found, thresholds)
    return render_template("console/ticket.html", p=content, labels=review.LABEL_NAMES, nav_active="queue")


@bp.post("/tickets/<source>/<path:external_id>/<action>")
@role_required("lead")
def ticket_action(source: str, external_id: str, action: str):
    """Confirm or reject a flag, add a coaching note, mark handled or reopen; back to the ticket page."""
    actor = current_user().username
    form = request.form
    with services().sessions.begin() as session:
        found = _ticket_or_404(session, source, external_id)
        try:
            if action == "verdict":
                tickets.judge_flag(session, found, form.get("verdict", ""), form.get("label", ""),
                                   form.get("message_index"), actor)
                message = "Flag confirmed." if form.get("verdict") == "flag_confirmed" else "Flag marked wrong."
            elif action == "note":
                tickets.add_note(session, found, form.get("note", ""), actor)
                message = "Coaching note added."
            elif action in ("handled", "reopen"):
                tickets.set_handled(session, found, action == "handled", actor)
                message = "Marked handled." if action == "handled" else "Back in the open queue."
            else:
                abort(404, f"Unknown ticket action {action!r}.")
        except tickets.ActionError as exc:
            abort(400, str(exc))
    flash(message + " Saved as feedback for training." if action == "verdict" else message, "info")
    return redirect(url_for("console.ticket", source=source, external_id=external_id))


@bp.get("/customers")
@role_required("lead")
def customers():
    """Customers and organisations by trust or value at risk, worst or best first, with the events that moved them."""
    sort = request.args.get("sort") or "risk"
    order = request.args.get("order") or "worst"
    if sort not in customer_pages.SORTS or order not in customer_pages.ORDERS:
        abort(400, f"sort: one of {', '.join(customer_pages.SORTS)}; order: one of {', '.join(customer_pages.ORDERS)}")
    with services().sessions() as session:
        data = customer_pages.listing(session, _default_value(), sort, order)
    return render_template("console/customers.html", data=data, sort=sort, order=order, nav_active="customers")
