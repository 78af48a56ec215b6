"""The metrics page: reply and resolution times, backlog and SLA breaches, as inline SVG charts."""

from __future__ import annotations

from flask import current_app, render_template

from civictracker.extensions import current_session
from civictracker.models import Role
from civictracker.runtime import city_of
from civictracker.services import inbox, response_metrics
from civictracker.services import metrics as m
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.charts import hbar_chart
from civictracker.web.console.helpers import int_arg


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
    return render_template(
        "console/metrics.html", days=days, reply=reply, resolve=resolve, charts=charts, first=first
    )
