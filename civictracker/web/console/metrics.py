"""The metrics page: reply and resolution times, backlog and SLA breaches, as inline SVG charts."""

from __future__ import annotations

from flask import Response, current_app, render_template, stream_with_context

from civictracker.extensions import current_session
from civictracker.models import Role
from civictracker.runtime import city_of
from civictracker.services import export, inbox, response_metrics
from civictracker.services import metrics as m
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.charts import hbar_chart
from civictracker.web.console.helpers import int_arg


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}


@bp.route("/export/tickets.csv")
@role_required(Role.ADMIN.value, Role.DISPATCHER.value)
def export_tickets() -> Response:
    """Every ticket as CSV, streamed: a million tickets cost the memory of one chunk."""
    lines = stream_with_context(export.ticket_csv(current_session()))
    return Response(lines, mimetype="text/csv", headers=_download("tickets.csv"))


def _trends(days: int) -> dict[str, list[m.TrendRow]]:
    session, zone = current_session(), city_of(current_app).timezone
    return {
        "week": m.weekly_trend(session, weeks=min(52, max(4, days // 7)), zone=zone),
        "service": m.trend_by(session, "service", days=days),
        "channel": m.trend_by(session, "channel", days=days),
    }


@bp.route("/metrics.csv")
@role_required(Role.ADMIN.value, Role.DISPATCHER.value)
def metrics_csv() -> Response:
    days = int_arg("days", default=90, minimum=1, maximum=3650) or 90
    target = inbox.first_response_minutes(city_of(current_app).meta)
    body = export.metrics_csv(
        days,
        m.time_to_first_reply(current_session(), days=days),
        m.time_to_resolve(current_session(), days=days),
        response_metrics.first_response(current_session(), target_min=target, days=days),
        _trends(days),
    )
    return Response(body, mimetype="text/csv", headers=_download(f"metrics-{days}d.csv"))


@bp.route("/metrics")
@role_required(Role.ADMIN.value, Role.DISPATCHER.value)
def metrics() -> str:
    days = int_arg("days", default=90, minimum=1, maximum=3650) or 90
    reply = m.time_to_first_reply(current_session(), days=days)
    resolve = m.time_to_resolve(current_session(), days=days)
    backlog = m.backlog_by_service(current_session())
    breaches = m.sla_breaches_by_service(current_session(), days=days)
    charts = {
        "reply": hbar_chart(
            "Time to first public reply", [(k, [float(v)]) for k, v in reply.histogram], series=["tickets"]
        ),
        "resolve": hbar_chart(
            "Time to resolve", [(k, [float(v)]) for k, v in resolve.histogram], series=["tickets"]
        ),
        "backlog": hbar_chart(
            "Open backlog by service", [(k, [float(v)]) for k, v in backlog], series=["open"]
        ),
        "sla": hbar_chart(
            "SLA breaches by service",
            [(k, [float(o), float(c)]) for k, o, c in breaches],
            series=["open past due", f"closed late ({days} d)"],
        ),
    }
    target = inbox.first_response_minutes(city_of(current_app).meta)
    first = response_metrics.first_response(current_session(), target_min=target, days=days)
    trends = _trends(days)
    charts["weeks"] = hbar_chart(
        "Reported and resolved per week",
        [(r.label, [float(r.reported), float(r.resolved)]) for r in trends["week"]],
        series=["reported", "resolved"],
    )
    return render_template(
        "console/metrics.html",
        days=days,
        reply=reply,
        resolve=resolve,
        charts=charts,
        first=first,
        trends=trends,
    )
