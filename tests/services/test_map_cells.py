"""The public data version and the open map's cells, kept by triggers: every writer moves them, and the
cells give the same clusters as counting the tickets table."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text, update

from civictracker.extensions import db as ext_db
from civictracker.geo import spatial
from civictracker.jobs.locate import geocode_ticket
from civictracker.models import MapCellDelta, MapClosedCell, Service, Ticket, TicketStatus
from civictracker.models.transitions import values_of
from civictracker.models.values import Location
from civictracker.services import corrections, map_closed_cells, public_map
from civictracker.services import map_open_cells as cells_svc
from civictracker.services import tickets as svc
from civictracker.services.map_cells import cell_rows
from civictracker.services.map_closed_cells import rolled_closed_cells
from civictracker.services.public import CLOSED_RECENT_DAYS, MAP_CLOSED, MAP_OPEN
from civictracker.services.public_version import public_data_version
from tests import factories
from tests.intake.helpers import deliver

CITY = (-71.1605, 42.3525, -71.064, 42.4045)
GRID = cells_svc.Grid.for_city(CITY)


def _reference(db) -> list[tuple[int, int, int, int, int]]:  # type: ignore[no-untyped-def]
    """The zoom-15 cells counted straight from the tickets table (the way the map did before)."""
    conds = [
        Ticket.status.in_(values_of(MAP_OPEN)),
        Ticket.public_lat.is_not(None),
        Ticket.public_lon.is_not(None),
        Ticket.public_lon.between(CITY[0], CITY[2]),
        Ticket.public_lat.between(CITY[1], CITY[3]),
    ]
    rows = cell_rows(db, conds, GRID.cell_lon, GRID.cell_lat)
    return sorted((gx, gy, sid, n, first if n == 1 else 0) for gx, gy, sid, n, first, _, _ in rows)


def _kept(db) -> list[tuple[int, int, int, int, int]]:  # type: ignore[no-untyped-def]
    db.flush()
    rows = cells_svc.open_cells(db, GRID)
    return sorted((gx, gy, sid, n, sid_sum if n == 1 else 0) for gx, gy, sid, n, _, _, sid_sum in rows)


def _bumps(db, action: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    """`action` moves the public data version, and the kept cells still equal a fresh count."""
    db.flush()
    before = public_data_version(db)
    action()
    db.flush()
    assert public_data_version(db) > before
    assert _kept(db) == _reference(db)


def _closed_reference(db, now: dt.datetime, zoom: int) -> list[tuple[int, int, int, int, int]]:  # type: ignore[no-untyped-def]
    """The map's recently closed tickets per cell of `zoom`, counted straight from the tickets table."""
    conds = [
        Ticket.status.in_([s.value for s in MAP_CLOSED]),
        Ticket.closed_at >= now - dt.timedelta(days=CLOSED_RECENT_DAYS),
        Ticket.public_lat.is_not(None),
        Ticket.public_lon.is_not(None),
        Ticket.public_lon.between(CITY[0], CITY[2]),
        Ticket.public_lat.between(CITY[1], CITY[3]),
    ]
    grid = GRID.at(zoom)
    rows = cell_rows(db, conds, grid.cell_lon, grid.cell_lat)
    return sorted((gx, gy, sid, n, first if n == 1 else 0) for gx, gy, sid, n, first, _, _ in rows)


def _closed_kept(db, now: dt.datetime, zoom: int) -> list[tuple[int, int, int, int, int]]:  # type: ignore[no-untyped-def]
    db.flush()
    cells_svc.ready_map_cells(db, GRID)
    services = set(db.scalars(select(Service.id)))
    since = now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    rows = rolled_closed_cells(db, GRID, zoom, services, since)
    return sorted((gx, gy, sid, n, first) for gx, gy, sid, n, first, _, _ in rows)


def _closed_right(db, now: dt.datetime | None = None) -> int:  # type: ignore[no-untyped-def]
    """The kept closed cells equal a fresh count at both kept zooms and a low one; returns how many."""
    now = now or dt.datetime.now(dt.UTC)
    for zoom in (17, 15, 12):
        kept = _closed_kept(db, now, zoom)
        assert kept == _closed_reference(db, now, zoom), zoom
    assert _kept(db) == _reference(db)
    return sum(r[3] for r in kept)


# --- every writer moves the version and keeps the cells right -------------------------------------------


def test_create_ticket_bumps_and_counts(db) -> None:  # type: ignore[no-untyped-def]
    _kept(db)  # the cells exist before the write, so the write is counted by the triggers alone
    _bumps(db, lambda: factories.ticket(db))
    assert sum(r[3] for r in _kept(db)) == 1


def test_change_status_bumps_and_leaves_the_map(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _kept(db)
    _bumps(db, lambda: svc.change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies()))
    assert _kept(db) == []


def test_hide_bumps_and_leaves_the_map(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _kept(db)
    _bumps(db, lambda: svc.change_status(db, t, TicketStatus.HIDDEN, replies=factories.replies()))
    assert _kept(db) == []


def test_merge_bumps_and_counts_one(db) -> None:  # type: ignore[no-untyped-def]
    a = factories.ticket(db)
    b = factories.ticket(db, lat=42.3708, lon=-71.0976)
    _kept(db)
    _bumps(db, lambda: svc.merge_tickets(db, b, a, replies=factories.replies()))
    assert sum(r[3] for r in _kept(db)) == 1


def test_assign_crew_bumps(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    crew = factories.crew(db)
    _bumps(db, lambda: svc.assign_crew(db, t, crew, replies=factories.replies()))


def test_correction_of_service_and_place_moves_the_cell(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _kept(db)
    trash = factories.service(db, "trash")
    _bumps(
        db,
        lambda: corrections.correct_ticket(
            db, t, corrections.Correction(service=trash), replies=factories.replies()
        ),
    )
    porter = Location(42.3886, -71.1190, address="Porter Sq")
    _bumps(
        db,
        lambda: corrections.correct_ticket(
            db, t, corrections.Correction(location=porter), replies=factories.replies()
        ),
    )
    assert [(r[2], r[3]) for r in _kept(db)] == [(trash.id, 1)]


def test_public_note_alone_bumps(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _bumps(db, lambda: svc.record_event(db, t, "note", svc.EventNote(public="Crew booked."), is_public=True))


def test_geocode_job_bumps_and_puts_the_ticket_on_the_map(app, db) -> None:  # type: ignore[no-untyped-def]
    ticket = svc.create_ticket(
        db, factories.service(db), svc.NewTicket(location_text="57 Inman St"), actor=svc.Actor(label="test")
    )
    db.commit()
    _kept(db)
    db.commit()
    before = public_data_version(db)
    assert geocode_ticket(ticket.id) == "located"
    ext_db.session.expire_all()
    assert public_data_version(db) > before
    assert _kept(db) == _reference(db) and len(_reference(db)) == 1


def test_intake_post_bumps_and_counts(app, db) -> None:  # type: ignore[no-untyped-def]
    _kept(db)
    db.commit()
    before = public_data_version(db)
    deliver("@CambridgeMA huge pothole at Hampshire St and Windsor St, please fix")
    assert public_data_version(db) > before
    assert _kept(db) == _reference(db) and len(_reference(db)) == 1


def test_raw_sql_and_service_edits_bump(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _kept(db)
    _bumps(db, lambda: db.execute(update(Ticket).where(Ticket.id == t.id).values(public_lat=42.39)))
    _bumps(db, lambda: db.execute(update(Service).where(Service.code == "pothole").values(name="Pothole!")))
    _bumps(db, lambda: db.execute(text("DELETE FROM ticket_events")))
    _bumps(db, lambda: db.execute(text("UPDATE tickets SET duplicate_of_id = NULL")))
    _bumps(db, lambda: db.execute(text("DELETE FROM tickets")))
    assert _kept(db) == []


@pytest.mark.parametrize("status", list(TicketStatus))
def test_each_status_is_on_the_map_exactly_when_the_map_shows_it(db, status: TicketStatus) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _kept(db)
    db.execute(update(Ticket).where(Ticket.id == t.id).values(status=status.value))
    assert len(_kept(db)) == (1 if status in MAP_OPEN else 0)
    assert _kept(db) == _reference(db)


# --- build, fold, and the same answers as counting ---------------------------------------------------


def _random_tickets(db, n: int, seed: int, now: dt.datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    """Open and closed tickets over the city, half of them on one street (Hampshire St)."""
    rng = random.Random(seed)
    now = now or dt.datetime.now(dt.UTC)
    codes = ["pothole", "trash", "graffiti", "streetlight", "tree"]
    service_ids = {c: factories.service(db, c).id for c in codes}
    rows = []
    for i in range(n):
        if i % 2:
            lat, lon = 42.3707 + rng.uniform(-0.0015, 0.0015) * 0.3, -71.0975 + rng.uniform(-0.006, 0.006)
        else:
            lat, lon = rng.uniform(CITY[1], CITY[3]), rng.uniform(CITY[0], CITY[2])
        status = rng.choice([*MAP_OPEN, *MAP_CLOSED, TicketStatus.NEW, TicketStatus.HIDDEN])
        private = rng.random() < 0.1
        plat, plon = (round(lat, 3), round(lon, 3)) if private else (lat, lon)
        # closed over the last 40 days: inside the map's 30, on its first day, and before it
        closed = now - dt.timedelta(hours=rng.uniform(0, 40 * 24)) if status in MAP_CLOSED else None
        rows.append(
            {
                "service_id": service_ids[rng.choice(codes)],
                "status": status.value,
                "lat": lat,
                "lon": lon,
                "public_lat": plat,
                "public_lon": plon,
                # the map's index of closed tickets reads the point (SQLite's R*Tree, kept by triggers)
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(plat, plon),
                "summary": "x",
                "closed_at": closed,
            }
        )
    db.execute(Ticket.__table__.insert(), rows)
    db.flush()


def _features(  # type: ignore[no-untyped-def]
    db, zoom: int, bbox: tuple[float, ...], services: tuple[str, ...], status: str = "open", now=None
) -> list[tuple[object, ...]]:
    view = public_map.Viewport(bbox, False, None, CITY)  # type: ignore[arg-type]
    filters = public_map.MapFilters(services=services, status=status)
    data = public_map.map_geojson(db, view, zoom, filters, now=now)
    return sorted(
        (
            f["properties"].get("count", 1),
            f["properties"].get("id") or 0,
            f["properties"]["service"],
            *f["geometry"]["coordinates"],
        )
        for f in data["features"]
    )


def _close(a: list[tuple[object, ...]], b: list[tuple[object, ...]]) -> bool:
    # Centroids: integer sums of 1e-7 degrees against float sums; both rounded to 1e-5 for the answer.
    return len(a) == len(b) and all(
        x[:3] == y[:3] and abs(x[3] - y[3]) <= 1.1e-5 and abs(x[4] - y[4]) <= 1.1e-5  # type: ignore[operator]
        for x, y in zip(a, b, strict=True)
    )


def test_random_viewports_give_the_same_clusters_as_counting(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every status: open from map_cells, recently closed from map_closed_cells (and the window's first
    day from the tickets), both from the two together; the old path counts the tickets."""
    now = dt.datetime.now(dt.UTC)
    _random_tickets(db, 600, seed=11, now=now)
    monkeypatch.setattr(cells_svc, "COMPACT_AT", 50)  # fold on the way, too
    monkeypatch.setattr(public_map, "MAX_POINTS", 20)  # zoom 17 clusters a view of more than 20 tickets
    rng = random.Random(5)
    for i in range(60):
        if i % 10 == 3:  # writes between reads: the cells follow
            t = factories.ticket(db, lat=rng.uniform(42.36, 42.38), lon=rng.uniform(-71.12, -71.09))
            svc.change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies())
            factories.ticket(db, "trash", lat=42.3707, lon=-71.0975)
        zoom = rng.randint(3, 17)
        # street level (16-17): a window's worth of cells, as a browser asks
        w, h = (rng.uniform(0.002, 0.12), rng.uniform(0.002, 0.06)) if zoom <= 15 else (0.02, 0.012)
        x, y = rng.uniform(CITY[0], CITY[2] - w / 2), rng.uniform(CITY[1], CITY[3] - h / 2)
        bbox = (x, y, min(x + w, CITY[2]), min(y + h, CITY[3]))
        services = rng.choice([(), ("pothole",), ("trash", "tree")])
        status = ("open", "closed", "all")[i % 3]
        db.flush()
        new = _features(db, zoom, bbox, services, status, now)
        with monkeypatch.context() as m:
            m.setattr(public_map, "_on_grid", lambda _filters: False)  # the old path: count the tickets
            m.setattr(public_map, "CACHE_MAX_ZOOM", 17)  # ... city-wide, whole cells, at 16-17 too
            old = _features(db, zoom, bbox, services, status, now)
        assert _close(new, old), (zoom, bbox, services, status)
    assert _kept(db) == _reference(db)
    _closed_right(db, now)


def test_fold_moves_deltas_into_cells_and_a_new_grid_rebuilds(db) -> None:  # type: ignore[no-untyped-def]
    _kept(db)
    _random_tickets(db, 120, seed=3)
    assert db.scalar(select(MapCellDelta.id).limit(1)) is not None
    cells_svc.compact_map_cells(db, GRID)
    assert db.scalar(select(MapCellDelta.id).limit(1)) is None
    assert _kept(db) == _reference(db)
    other = cells_svc.Grid(GRID.cell_lon * 2, GRID.cell_lat * 2, CITY)
    coarse = cells_svc.open_cells(db, other)  # another city's grid on this database: counted anew
    assert sum(r[3] for r in coarse) == sum(r[3] for r in _reference(db))
    assert _kept(db) == _reference(db)  # and back


def test_the_triggers_exist_after_upgrade_head(db, backend: str) -> None:  # type: ignore[no-untyped-def]
    # A later SQLite batch migration that copies the tickets table would drop them silently.
    if backend == "postgis":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%public%'"
    names = set(db.scalars(text(sql)))
    expected = (
        {
            "tickets_public_version",
            "ticket_events_public_version",
            "services_public_version",
            "tickets_map_delta",
        }
        if backend == "postgis"
        else {
            f"{t}_public_{e}"
            for t in ("tickets", "ticket_events", "services")
            for e in ("insert", "update", "delete")
        }
    )
    assert expected <= names


def test_concurrent_writers_do_not_queue_on_the_version(app, db, backend: str) -> None:  # type: ignore[no-untyped-def]
    a, b = factories.ticket(db), factories.ticket(db)
    db.commit()
    before = public_data_version(db)
    db.rollback()
    if backend != "postgis":  # SQLite has one writer at a time: each row written bumps the version
        db.execute(text("UPDATE tickets SET summary = 'one' WHERE id IN (:a, :b)"), {"a": a.id, "b": b.id})
        db.commit()
        assert public_data_version(db) == before + 2
        return
    engine = ext_db.engine
    with engine.connect() as one, engine.connect() as two:
        # Another transaction holds the slot this connection would use first (a pid collision).
        pid = two.execute(text("SELECT pg_backend_pid()")).scalar()
        one.execute(
            text("SELECT version FROM public_data_version WHERE slot = :s FOR UPDATE"), {"s": pid % 32}
        )
        one.execute(text("UPDATE tickets SET summary = 'one' WHERE id = :id"), {"id": a.id})
        two.execute(text("SET lock_timeout = '3s'"))
        two.execute(text("UPDATE tickets SET summary = 'two' WHERE id = :id"), {"id": b.id})  # no wait
        two.commit()
        one.commit()
    assert public_data_version(db) >= before + 2


# --- the recently closed cells: every status change path ------------------------------------------------


def test_every_status_change_keeps_the_closed_cells(db) -> None:  # type: ignore[no-untyped-def]
    """Close, close again (a new closing day), reopen, refer, reject, merge, hide, edit the closing time,
    delete: the kept closed cells equal a fresh count after each."""
    r = factories.replies()
    a = factories.ticket(db)
    b = factories.ticket(db, "trash", lat=42.3886, lon=-71.1190)
    c = factories.ticket(db, lat=42.3736, lon=-71.1190)
    d = factories.ticket(db, lat=42.3708, lon=-71.0976)
    assert _closed_right(db) == 0  # built before the writes: the triggers alone count what follows
    svc.change_status(db, a, TicketStatus.RESOLVED, replies=r)
    assert _closed_right(db) == 1
    svc.change_status(
        db, a, TicketStatus.CLOSED, replies=r, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    )
    assert _closed_right(db) == 1
    svc.change_status(db, a, TicketStatus.REOPENED, replies=r)  # back on the open map
    assert _closed_right(db) == 0
    svc.change_status(db, b, TicketStatus.REFERRED, replies=r)
    assert _closed_right(db) == 1
    svc.change_status(db, c, TicketStatus.REJECTED, replies=r)  # closed, but never on the map
    assert _closed_right(db) == 1
    svc.change_status(db, d, TicketStatus.RESOLVED, replies=r)
    assert _closed_right(db) == 2
    svc.change_status(db, d, TicketStatus.REOPENED, replies=r)
    assert _closed_right(db) == 1
    svc.merge_tickets(db, d, a, replies=r)  # a duplicate is drawn once, on the ticket it joined
    assert _closed_right(db) == 1 and db.get(Ticket, d.id).status == TicketStatus.DUPLICATE
    svc.change_status(db, a, TicketStatus.HIDDEN, replies=r)
    assert _closed_right(db) == 1
    now = dt.datetime.now(dt.UTC)
    window = now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    for closed_at, counted in [
        (now - dt.timedelta(days=3), 1),
        (window + dt.timedelta(seconds=1), 1),  # the window's first, partial day: counted from the ticket
        (window - dt.timedelta(seconds=1), 0),  # just before it, on the same day
        (now - dt.timedelta(days=45), 0),  # a day no window reaches: not kept
        (now - dt.timedelta(hours=1), 1),
    ]:
        db.execute(update(Ticket).where(Ticket.id == b.id).values(closed_at=closed_at))
        assert _closed_right(db, now) == counted, closed_at
    db.execute(text("DELETE FROM ticket_events WHERE ticket_id = :id"), {"id": b.id})
    db.execute(text("DELETE FROM tickets WHERE id = :id"), {"id": b.id})
    assert _closed_right(db) == 0


def test_closed_deltas_fold_and_old_days_are_pruned(db) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    _closed_right(db, now)
    _random_tickets(db, 200, seed=4, now=now)
    assert db.scalar(select(MapCellDelta.id).where(MapCellDelta.day.is_not(None)).limit(1)) is not None
    cells_svc.compact_map_cells(db, GRID)
    assert db.scalar(select(MapCellDelta.id).limit(1)) is None
    assert _closed_right(db, now) > 0
    oldest = db.scalar(select(func.min(MapClosedCell.day)))
    assert oldest >= map_closed_cells.horizon(now)
    # a later day: the days no window reaches any more are dropped, the answer stays the same
    later = now + dt.timedelta(days=5)
    cells_svc.compact_map_cells(db, GRID, now=later)
    assert db.scalar(select(func.min(MapClosedCell.day))) >= map_closed_cells.horizon(later)
    for zoom in (15, 17):
        assert _closed_kept(db, later, zoom) == _closed_reference(db, later, zoom)
    # a ticket closed then reopened: its folded rows are emptied, then dropped
    t = factories.ticket(db, "trash", lat=42.3886, lon=-71.1190)
    svc.change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies())
    db.flush()
    cells_svc.compact_map_cells(db, GRID)
    assert db.scalar(
        select(func.count())
        .select_from(MapClosedCell)
        .where(MapClosedCell.service_id == t.service_id, MapClosedCell.n > 0)
    )
    svc.change_status(db, t, TicketStatus.REOPENED, replies=factories.replies())
    db.flush()
    cells_svc.compact_map_cells(db, GRID)
    assert db.scalar(select(func.count()).select_from(MapClosedCell).where(MapClosedCell.n == 0)) == 0
    for zoom in (15, 17):  # as of the later day the cells were pruned for
        assert _closed_kept(db, later, zoom) == _closed_reference(db, later, zoom)
