"""Migration a3f7c1e9d5b2 on a database that has tickets: map_recent_cells is summed from the stored
map_closed_cells, the map's closed view reads it and gives what counting the tickets gives, and the
downgrade takes it away cleanly (both databases)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from civictracker.citypack import load_city_pack
from civictracker.extensions import db
from civictracker.models import MapGrid, MapRecentCell
from civictracker.runtime import settings_of
from civictracker.services.map_grid import Grid
from civictracker.services.map_open_cells import _window_after, rebuild_map_cells
from civictracker.services.map_recent_cells import _summed
from tests.conftest import BACKENDS, drop_app, make_app
from tests.test_migration_closed_cells import _counted, _insert_history, _kept

BEFORE = "e4c8a1f5b9d3"


def _recent_rows() -> list[tuple[int, ...]]:
    rows = db.session.execute(
        text("SELECT zoom, gx, gy, service_id, n, sum_lat_e7, sum_lon_e7, sum_id FROM map_recent_cells")
    )
    return sorted(tuple(r) for r in rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_sums_the_recent_cells_from_stored_tickets(tmp_path: Path, backend: str) -> None:
    app, pg_db = make_app(backend, tmp_path)
    try:
        with app.app_context():
            grid = Grid.for_city(load_city_pack(settings_of(app).city_pack_dir).bbox)
            now = dt.datetime.now(dt.UTC)
            _insert_history(grid.box, now, 400)
            rebuild_map_cells(db.session, grid, now)  # a deployed database: its closed cells counted
            db.session.commit()
            db.session.remove()
            downgrade(revision=BEFORE)  # a database deployed before the window table, with its history
            tables = set(db.inspect(db.engine).get_table_names())
            assert "map_recent_cells" not in tables
            assert "recent_after_day" not in {
                c["name"] for c in db.inspect(db.engine).get_columns("map_grid")
            }
            if backend == "postgis":  # the truncate trigger no longer names the dropped table
                body = db.session.scalar(
                    text("SELECT prosrc FROM pg_proc WHERE proname = 'ct_tickets_truncated'")
                )
                assert body and "map_recent_cells" not in body
                db.session.commit()
            before_upgrade = dt.datetime.now(dt.UTC)
            upgrade()
            db.session.expire_all()
            after_day = db.session.scalar(select(MapGrid.recent_after_day).where(MapGrid.id == 1))
            # The migration reads its own clock: either side of a UTC midnight it may land on
            assert after_day in {_window_after(before_upgrade), _window_after(dt.datetime.now(dt.UTC))}
            built = _recent_rows()
            assert built  # by the migration, not by a rebuild of the app's
            assert built == sorted(tuple(r) for r in db.session.execute(_summed(after_day)) if r[4] != 0)
            now = dt.datetime.now(dt.UTC)
            for zoom in (17, 15, 12):
                assert _kept(grid, zoom, now) == _counted(grid, zoom, now), zoom
            if backend == "postgis":
                body = db.session.scalar(
                    text("SELECT prosrc FROM pg_proc WHERE proname = 'ct_tickets_truncated'")
                )
                assert body and "map_recent_cells" in body
            db.session.commit()
            db.session.remove()
            downgrade(revision=BEFORE)
            assert "map_recent_cells" not in set(db.inspect(db.engine).get_table_names())
            db.session.remove()
            upgrade()  # and up again: the downgrade left nothing in the way
            assert db.session.scalar(select(func.count()).select_from(MapRecentCell)) == len(built)
    finally:
        drop_app(app, pg_db)
