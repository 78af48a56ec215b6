"""Migration e4c8a1f5b9d3 on a database that has tickets: map_closed_cells is built from them, the triggers
keep it after, and the map's closed view gives what counting the tickets gives (both databases)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from civictracker.citypack import load_city_pack
from civictracker.extensions import db
from civictracker.geo import spatial
from civictracker.models import MapClosedCell, Service, Ticket, TicketStatus
from civictracker.runtime import settings_of
from civictracker.services import tickets as svc
from civictracker.services.map_cells import cell_rows
from civictracker.services.map_closed_cells import rolled_closed_cells
from civictracker.services.map_grid import Grid
from civictracker.services.map_open_cells import ready_map_cells, rolled_open_cells
from civictracker.services.public import CLOSED_RECENT_DAYS, MAP_CLOSED, MAP_OPEN
from tests import factories
from tests.conftest import BACKENDS, drop_app, make_app

BEFORE = "d7a3f9c2e4b8"


def _insert_history(box: tuple[float, float, float, float], now: dt.datetime, n: int) -> None:
    rng = random.Random(9)
    services = list(db.session.scalars(select(Service.id).where(Service.public.is_(True))))
    rows = []
    for _ in range(n):
        lat, lon = rng.uniform(box[1], box[3]), rng.uniform(box[0], box[2])
        status = rng.choice([*MAP_OPEN, *MAP_CLOSED, TicketStatus.REJECTED, TicketStatus.HIDDEN])
        closed = now - dt.timedelta(hours=rng.uniform(0, 45 * 24)) if status not in MAP_OPEN else None
        rows.append(
            {
                "service_id": rng.choice(services),
                "status": status.value,
                "lat": lat,
                "lon": lon,
                "public_lat": lat,
                "public_lon": lon,
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(lat, lon),
                "summary": "x",
                "closed_at": closed,
            }
        )
    db.session.execute(Ticket.__table__.insert(), rows)
    db.session.commit()


def _counted(grid: Grid, zoom: int, now: dt.datetime, *, opened: bool = False) -> list[tuple[int, ...]]:
    recent = Ticket.closed_at >= now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    conds = [
        Ticket.status.in_([s.value for s in MAP_OPEN])
        if opened
        else Ticket.status.in_([s.value for s in MAP_CLOSED]),
        Ticket.public_lat.is_not(None) if opened else recent,
        Ticket.public_lat.is_not(None),
        Ticket.public_lon.between(grid.box[0], grid.box[2]),
        Ticket.public_lat.between(grid.box[1], grid.box[3]),
    ]
    level = grid.at(zoom)
    rows = cell_rows(db.session, conds, level.cell_lon, level.cell_lat)
    return sorted((gx, gy, sid, n, first if n == 1 else 0) for gx, gy, sid, n, first, _, _ in rows)


def _kept(grid: Grid, zoom: int, now: dt.datetime, *, opened: bool = False) -> list[tuple[int, ...]]:
    services = set(db.session.scalars(select(Service.id)))
    since = now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    if opened:
        rows = rolled_open_cells(db.session, grid, zoom, services)
    else:
        rows = rolled_closed_cells(db.session, grid, zoom, services, since)
    return sorted((gx, gy, sid, n, first) for gx, gy, sid, n, first, _, _ in rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_builds_the_closed_cells_from_stored_tickets(tmp_path: Path, backend: str) -> None:
    app, pg_db = make_app(backend, tmp_path)
    try:
        with app.app_context():
            grid = Grid.for_city(load_city_pack(settings_of(app).city_pack_dir).bbox)
            downgrade(revision=BEFORE)  # a database deployed before the closed cells, with its history
            assert "map_closed_cells" not in set(db.inspect(db.engine).get_table_names())
            now = dt.datetime.now(dt.UTC)
            _insert_history(grid.box, now, 400)
            upgrade()
            db.session.expire_all()
            built = db.session.scalar(select(func.count()).select_from(MapClosedCell))
            assert built and built > 0  # by the migration, not by a rebuild of the app's
            for zoom in (17, 15, 12):
                assert _kept(grid, zoom, now) == _counted(grid, zoom, now), zoom
                # the open cells' new coarse zoom too, with the deltas written before the upgrade pending
                assert _kept(grid, zoom, now, opened=True) == _counted(grid, zoom, now, opened=True), zoom
            assert db.session.scalar(text("SELECT count(*) FROM map_cell_deltas")) > 0
            # the new triggers keep them from here on
            ticket = db.session.scalars(select(Ticket).where(Ticket.status.in_(["open", "assigned"]))).first()
            assert ticket is not None
            svc.change_status(db.session, ticket, TicketStatus.RESOLVED, replies=factories.replies())
            db.session.commit()
            ready_map_cells(db.session, grid)
            now = dt.datetime.now(dt.UTC)
            for zoom in (17, 15, 13, 12):
                assert _kept(grid, zoom, now) == _counted(grid, zoom, now), zoom
                assert _kept(grid, zoom, now, opened=True) == _counted(grid, zoom, now, opened=True), zoom
            days = db.session.execute(text("SELECT count(*) FROM map_cell_deltas WHERE day IS NOT NULL"))
            assert days.scalar() == 1
    finally:
        drop_app(app, pg_db)
