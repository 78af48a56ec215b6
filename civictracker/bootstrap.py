"""Getting a database and the demo ready: migrations, city services, demo staff and crews, serving."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from civictracker.extensions import current_session, db
from civictracker.paths import MIGRATIONS_DIR
from civictracker.runtime import settings_of

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-dispatch-2026"  # noqa: S105 - printed for the local demo; production has no demo users
DEMO_DISPATCHER = "dispatcher@demo.civictracker.local"
DEMO_ADMIN = "admin@demo.civictracker.local"
# Crew yards placed at real Cambridge street points (Hampshire St & Windsor St, Mass Ave at Porter, Alewife),
# each with the service codes it handles: suggestions rank a skilled crew before a nearer unskilled one.
DEMO_CREWS = [
    ("Streets North", "pothole,sidewalk,snow_ice,abandoned_vehicle", 42.3886, -71.1190),
    ("Streets East", "pothole,sidewalk,snow_ice,abandoned_vehicle", 42.3694, -71.0953),
    ("Sanitation 1", "trash,illegal_dumping,graffiti,rodents", 42.3732, -71.1028),
    ("Forestry", "tree", 42.3806, -71.1363),
    ("Water & Sewer", "water_sewer,flooding", 42.3651, -71.1037),
    ("Electrical", "streetlight,traffic_signal,power_outage", 42.3770, -71.1167),
    # Hazards triage files as "other" (gas smell, downed wires): a crew that makes a scene safe.
    ("Emergency Response", "other,power_outage,flooding", 42.3729, -71.1142),
]


def bind_migrations(app: Flask) -> None:
    """Flask-Migrate on the app (`flask db ...`, flask_migrate.upgrade()), bound when first needed: importing
    it imports Alembic, ~0.2 s of start-up that a process triaging posts or serving pages never uses."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)


def prepare_database(app: Flask) -> None:
    """Upgrade to the latest migration (never create_all), load the city's services, build the map cells."""
    from flask_migrate import upgrade

    from civictracker.citypack import load_city_pack
    from civictracker.services.catalog import import_services
    from civictracker.services.map_open_cells import prepare_map_cells

    bind_migrations(app)
    with app.app_context():
        upgrade()
        city = load_city_pack(settings_of(app).city_pack_dir)
        import_services(current_session(), city.services)
        prepare_map_cells(current_session(), city.bbox)
        db.session.commit()


def prepare_demo(app: Flask) -> dict[str, Any]:
    """Demo staff and crews (idempotent), then the demo feed through the real intake pipeline."""
    from civictracker.geo import spatial
    from civictracker.models import Crew, Service, User
    from civictracker.models.types import utcnow
    from civictracker.services.users import create_user

    with app.app_context():
        for name, codes, lat, lon in DEMO_CREWS:
            if db.session.scalar(select(Crew).where(Crew.name == name)) is None:
                skills = db.session.scalars(select(Service).where(Service.code.in_(codes.split(","))))
                db.session.add(
                    Crew(
                        name=name,
                        services=list(skills),
                        lat=lat,
                        lon=lon,
                        location=spatial.point(lat, lon),
                        location_updated_at=utcnow(),
                    )
                )
        db.session.flush()
        for email, role in ((DEMO_DISPATCHER, "dispatcher"), (DEMO_ADMIN, "admin")):
            if db.session.scalar(select(User).where(User.email == email)) is None:
                create_user(current_session(), email, DEMO_PASSWORD, role=role, name=role.title())
        crew = db.session.scalar(select(Crew).where(Crew.name == DEMO_CREWS[0][0]))
        crew_email = "crew@demo.civictracker.local"
        if crew is not None and db.session.scalar(select(User).where(User.email == crew_email)) is None:
            create_user(
                current_session(), crew_email, DEMO_PASSWORD, role="crew", name="Crew lead", crew_id=crew.id
            )
        db.session.commit()
        replay_demo_feed(app)
    return {"email": DEMO_DISPATCHER, "admin_email": DEMO_ADMIN, "password": DEMO_PASSWORD}


def replay_demo_feed(app: Flask) -> None:
    """Feed the city's demo posts through intake once, if the intake pipeline is installed."""
    try:
        from civictracker.jobs.replay_demo import replay_feed_once
    except ModuleNotFoundError:
        log.info("intake pipeline not installed yet; demo starts without replayed posts")
        return
    replay_feed_once(app)


def serve_demo(app: Flask, host: str, port: int) -> None:
    """Serve with werkzeug's threaded server; a poll loop fetches channels in the background."""
    from werkzeug.serving import run_simple

    from civictracker.jobs.poller import start_poll_loop

    stop = threading.Event()
    start_poll_loop(app, stop)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
