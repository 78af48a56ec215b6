"""A big, skewed ticket history for the public-read benches: bulk inserts, half of it on one street.

Used by bench_public_map.py and bench_load.py. `fill(app, n)` writes n tickets in batches through the
real triggers (so map_cell_deltas and the data version see them), then builds the map cells as
`init-db` does on a deployed database. 10% are open (the map's open statuses), the rest closed within the
last year; half of all tickets lie along Hampshire St (the bad-input case of issue 17), the rest over
the city with a few busy squares.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

BATCH = 5_000
# Hampshire St from Inman Sq to Broadway (Cambridge): the one street that gets half the history.
STREET = ((42.37350, -71.10100), (42.36620, -71.08570))
HUBS = [(42.3736, -71.1190), (42.3655, -71.1040), (42.3626, -71.0843), (42.3967, -71.1220)]


def fill(app: Any, n: int, *, seed: int = 7) -> dict[str, float]:
    """Insert n tickets; returns the seconds spent inserting and building the map cells."""
    from civictracker.citypack import load_city_pack
    from civictracker.extensions import db
    from civictracker.geo import spatial
    from civictracker.models import GeocodeStatus, Service, Ticket, TicketStatus
    from civictracker.runtime import settings_of
    from civictracker.services.map_grid import Grid
    from civictracker.services.map_open_cells import rebuild_map_cells
    from civictracker.services.public import MAP_OPEN

    rng = random.Random(seed)
    city = load_city_pack(settings_of(app).city_pack_dir)
    min_lon, min_lat, max_lon, max_lat = city.bbox
    service_ids = [s.id for s in db.session.query(Service).filter(Service.public.is_(True))]
    open_statuses = [s.value for s in MAP_OPEN]
    closed_statuses = [TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]
    now = dt.datetime.now(dt.UTC)
    table = Ticket.__table__
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for i in range(n):
        if i % 2 == 0:  # half on one street
            f = rng.random()
            lat = STREET[0][0] + f * (STREET[1][0] - STREET[0][0]) + rng.gauss(0, 0.00008)
            lon = STREET[0][1] + f * (STREET[1][1] - STREET[0][1]) + rng.gauss(0, 0.00008)
            street = "Hampshire St"
        elif rng.random() < 0.4:
            hlat, hlon = rng.choice(HUBS)
            lat, lon, street = rng.gauss(hlat, 0.004), rng.gauss(hlon, 0.005), "Massachusetts Ave"
        else:
            lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
            street = "Broadway"
        lat, lon = min(max(lat, min_lat), max_lat), min(max(lon, min_lon), max_lon)
        private = rng.random() < 0.1
        plat, plon = (round(lat, 3), round(lon, 3)) if private else (lat, lon)
        created = now - dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        is_open = rng.random() < 0.1
        closed = None if is_open else min(now, created + dt.timedelta(hours=rng.randint(1, 24 * 30)))
        rows.append(
            {
                "service_id": rng.choice(service_ids),
                "status": rng.choice(open_statuses if is_open else closed_statuses),
                "priority": 0,
                "lat": lat,
                "lon": lon,
                "public_lat": plat,
                "public_lon": plon,
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(plat, plon),
                "address": f"{rng.randint(1, 999)} {street}",
                "street": street,
                "private_location": private,
                "summary": f"Reported problem on {street}, near number {rng.randint(1, 999)}.",
                "source_channel": "x_mention",
                "report_count": 1,
                "created_at": created,
                "updated_at": closed or created,
                "closed_at": closed,
                "geocode_status": GeocodeStatus.OK.value,
                "triage": {},
                "attributes": {},
            }
        )
        if len(rows) == BATCH or i == n - 1:
            db.session.execute(table.insert(), rows)
            db.session.commit()
            rows = []
    insert_s = time.perf_counter() - t0
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    t1 = time.perf_counter()
    rebuild_map_cells(db.session, Grid.for_city(city.bbox))  # what init-db does on a deployed database
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # The rebuild deleted the million deltas the inserts' triggers wrote: what autovacuum clears on a
        # deployed database (it is off on the bench machine), else every map read scans 65 MB of dead rows.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE map_cell_deltas")
    return {"insert_s": insert_s, "cells_s": time.perf_counter() - t1}
