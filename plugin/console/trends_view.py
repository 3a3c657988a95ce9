"""The leads' trends page: weekly charts drawn in the browser from plugin/trends.py's figures (thin view)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from .. import runtime, trends
from ..services import services
from .auth import error_pages, role_required

bp = Blueprint("console_trends", __name__, url_prefix="/console")
error_pages(bp)


@bp.get("/trends")
@role_required("lead")
def trends_page():
    """Blame and deflection rates, escalations per week, per team and agent, and the share of suggestions used."""
    raw = request.args.get("weeks", "12")
    if not raw.isdigit() or not 1 <= int(raw) <= trends.MAX_WEEKS:
        abort(400, f"weeks must be a whole number from 1 to {trends.MAX_WEEKS}")
    s = services()
    runtime.refresh(s)
    with s.sessions() as session:
        data = trends.trends(session, runtime.current_thresholds(session, s.analyzer), int(raw))
    return render_template("console/trends.html", nav_active="trends", data=data, weeks=int(raw))
