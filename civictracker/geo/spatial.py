"""All spatial SQL, one code path per dialect: PostGIS geography on PostgreSQL, SpatiaLite on SQLite."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

EARTH_RADIUS_M = 6_371_008.8
SRID = 4326


def point(lat: float, lon: float) -> WKTElement:
    """A WGS84 point value for a geometry column (x is longitude)."""
    return WKTElement(f"POINT({lon:.7f} {lat:.7f})", srid=SRID)


def linestring(coords: list[tuple[float, float]]) -> WKTElement:
    """A WGS84 line from (lon, lat) pairs."""
    body = ", ".join(f"{lon:.7f} {lat:.7f}" for lon, lat in coords)
    return WKTElement(f"LINESTRING({body})", srid=SRID)


def line_wkt(column: Any) -> ColumnElement[str]:
    """A line column as WKT text (ST_AsText on both PostGIS and SpatiaLite); read with parse_linestring."""
    return func.ST_AsText(column)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (pure Python, for ranking in memory)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres on the WGS84 ellipsoid, as the databases measure (SpatiaLite's use_ellipsoid, PostGIS's
    geography): for rows not written yet, which a query cannot see."""
    from geopy.distance import geodesic

    return float(geodesic((lat1, lon1), (lat2, lon2)).meters)


def degree_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A (min_lon, min_lat, max_lon, max_lat) box that contains the circle: the index prefilter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def dialect_of(session: Session | Connection) -> str:
    if isinstance(session, Connection):
        return session.dialect.name
    # A Session, or Flask-SQLAlchemy's scoped_session proxy of one.
    return session.get_bind().dialect.name


def distance_m(session: Session | Connection, column: Any, lat: float, lon: float) -> ColumnElement[float]:
    """Expression: metres from a geometry column to a point, on the ellipsoid."""
    pt = func.ST_GeomFromText(f"POINT({lon:.7f} {lat:.7f})", SRID)
    return _distance(dialect_of(session), column, pt)


def _distance(dialect: str, column: Any, pt: Any) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.ST_Distance(func.Geography(column), func.Geography(pt))
    return func.ST_Distance(column, pt, 1)  # SpatiaLite: use_ellipsoid=1 gives metres for SRID 4326


def within_radius(
    session: Session | Connection, column: Any, table: str, lat: float, lon: float, radius_m: float
) -> ColumnElement[bool]:
    """Predicate: geometry within radius_m metres of the point, using the spatial index on both backends."""
    dialect = dialect_of(session)
    if dialect == "postgresql":
        pt = func.ST_GeomFromText(f"POINT({lon:.7f} {lat:.7f})", SRID)
    else:
        pt = func.MakePoint(lon, lat, SRID)
    return _within(dialect, column, table, pt, degree_box(lat, lon, radius_m), radius_m)


@dataclass(frozen=True)
class RTree:
    """A plain SQLite R*Tree over some rows of a table, kept by triggers (see the migration that makes it):
    (id, min_lon, max_lon, min_lat, max_lat) and more dimensions, each asked with the bound parameter of
    its name. Asked instead of SpatiaLite's index of every row when a query wants only those rows."""

    table: str
    # Dimensions (min_<name>, max_<name>) that hold one value per row, asked equal to :<name>.
    equal: tuple[str, ...] = ()
    # Dimensions asked to reach at least :<name> (max_<name> >= :<name>).
    at_least: tuple[str, ...] = ()


# The tickets a new report may be merged into (an open status and a place), by service and creation day:
# dedupe reads the few candidates of one service near a point in its window, not every ticket ever made
# there (migrations 9b2f4d6a8c31, f4c8a2e6b9d1). Days are days since 1970 (see epoch_days).
OPEN_TICKETS = RTree("idx_open_tickets", equal=("service_id",), at_least=("created_day",))


def epoch_days(when: dt.datetime) -> float:
    """Days since 1970-01-01 UTC, as the open-ticket R*Tree stores a ticket's creation."""
    return (when - _EPOCH).total_seconds() / 86400.0


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _within(
    dialect: str,
    column: Any,
    table: str,
    pt: Any,
    box: tuple[Any, Any, Any, Any] | None,
    radius_m: Any,
    rtree: RTree | None = None,
) -> ColumnElement[bool]:
    """Within radius of `pt`, the index asked first with `box`: values, or (None) bound parameters
    si_x1, si_y1, si_x2, si_y2 given at execution (see NearestQuery). `rtree`: on SQLite, that index
    instead of SpatiaLite's (PostgreSQL combines the GiST index with the table's B-trees itself)."""
    corners = box if box is not None else tuple(bindparam(name) for name in _BOX_PARAMS)
    if dialect == "postgresql":
        return and_(
            column.op("&&")(func.ST_MakeEnvelope(*corners, SRID)),
            func.ST_DWithin(func.Geography(column), func.Geography(pt), radius_m),
        )
    prefilter = (
        _rtree_filter(table, rtree, box)
        if rtree is not None
        else _spatialite_index_filter(table, column, box)
    )
    return and_(prefilter, func.PtDistWithin(column, pt, radius_m, 1))


def _rtree_filter(
    table: str, rtree: RTree, box: tuple[float, float, float, float] | None
) -> ColumnElement[bool]:
    aux = "".join(f" AND min_{name} <= :{name} AND max_{name} >= :{name}" for name in rtree.equal)
    aux += "".join(f" AND max_{name} >= :{name}" for name in rtree.at_least)
    # (names from the code, never from user input; the R*Tree's float32 boxes are rounded outwards, so
    # this prefilter never drops a row the exact test keeps)
    clause = text(
        f"{table}.id IN (SELECT id FROM {rtree.table} WHERE max_lon >= :si_x1 AND min_lon <= :si_x2"  # noqa: S608
        f" AND max_lat >= :si_y1 AND min_lat <= :si_y2{aux})"
    )
    if box is not None:
        clause = clause.bindparams(**dict(zip(_BOX_PARAMS, box, strict=True)))
    return clause  # type: ignore[return-value]


_BOX_PARAMS = ("si_x1", "si_y1", "si_x2", "si_y2")


def within_bbox(
    session: Session | Connection,
    column: Any,
    table: str,
    bbox: tuple[float, float, float, float],
) -> ColumnElement[bool]:
    """Predicate: geometry inside (min_lon, min_lat, max_lon, max_lat), index-assisted."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if dialect_of(session) == "postgresql":
        return column.op("&&")(func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, SRID))
    return and_(
        _spatialite_index_filter(table, column, bbox),
        func.MbrIntersects(column, func.BuildMbr(min_lon, min_lat, max_lon, max_lat, SRID)),
    )


def _spatialite_index_filter(
    table: str, column: Any, box: tuple[float, float, float, float] | None
) -> ColumnElement[bool]:
    # SpatiaLite's R*Tree is only used when asked through the SpatialIndex virtual table.
    col_name = column.key if hasattr(column, "key") else str(column)
    # The table name comes from model.__tablename__, never from user input.
    clause = text(
        f"{table}.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = :si_t "  # noqa: S608
        "AND f_geometry_column = :si_c AND search_frame = BuildMbr(:si_x1, :si_y1, :si_x2, :si_y2, 4326))"
    ).bindparams(si_t=table, si_c=col_name)
    if box is not None:  # else the corners are given at execution
        clause = clause.bindparams(**dict(zip(_BOX_PARAMS, box, strict=True)))
    return clause  # type: ignore[return-value]


def nearest(
    session: Session,
    model: Any,
    column: Any,
    lat: float,
    lon: float,
    *,
    limit: int = 5,
    max_radius_m: float = 20_000,
    where: list[ColumnElement[bool]] | None = None,
) -> list[tuple[Any, float]]:
    """The `limit` nearest rows of `model` to a point, with their distance in metres, nearest first."""
    dist = distance_m(session, column, lat, lon).label("distance_m")
    stmt = (
        select(model, dist)
        .where(column.is_not(None))
        .where(within_radius(session, column, model.__tablename__, lat, lon, max_radius_m))
    )
    for cond in where or []:
        stmt = stmt.where(cond)
    stmt = stmt.order_by(dist).limit(limit)
    return [(row[0], float(row[1])) for row in session.execute(stmt)]


class NearestQuery:
    """`nearest()` with its statement built once per dialect, for a hot path run once per post.

    Building a statement of this size costs SQLAlchemy about ten times what the database spends running
    it (0.6 ms against 0.03 ms on SQLite), so the statement takes every value as a bound parameter: the
    point, the radius and its box, and the caller's own (`where` names them with `bindparam`).
    """

    def __init__(
        self,
        model: Any,
        column: Any,
        columns: list[Any],
        where: list[ColumnElement[bool]] | None = None,
        *,
        limit: int = 5,
        rtree: RTree | None = None,
    ) -> None:
        """`rtree`: the rows `where` can match have their own R*Tree on SQLite (see RTree); its auxiliary
        columns take the bound parameters of their names."""
        self._model, self._column, self._columns = model, column, columns
        self._where, self._limit, self._rtree = list(where or []), limit, rtree
        self._statements: dict[str, Any] = {}

    def _statement(self, dialect: str) -> Any:
        stmt = self._statements.get(dialect)
        if stmt is not None:
            return stmt
        lon: Any = bindparam("nq_lon")
        lat: Any = bindparam("nq_lat")
        if dialect == "postgresql":
            pt = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
        else:
            pt = func.MakePoint(lon, lat, SRID)
        column = self._column
        within = _within(
            dialect, column, self._model.__tablename__, pt, None, bindparam("nq_radius"), self._rtree
        )
        dist = _distance(dialect, column, pt).label("distance_m")
        stmt = (
            select(*self._columns, dist)
            .select_from(self._model)
            .where(column.is_not(None), within, *self._where)
            .order_by(dist)
            .limit(self._limit)
        )
        self._statements[dialect] = stmt
        return stmt

    def run(
        self, session: Session, lat: float, lon: float, radius_m: float, **params: Any
    ) -> list[tuple[Any, float]]:
        """The rows (the chosen columns) within radius_m of the point, with metres, nearest first."""
        # rounded as point() writes a WKT point: the same place to the centimetre, whichever path asks
        values = {"nq_lat": round(lat, 7), "nq_lon": round(lon, 7), "nq_radius": radius_m, **params}
        values.update(zip(_BOX_PARAMS, degree_box(lat, lon, radius_m), strict=True))
        rows = session.execute(self._statement(dialect_of(session)), values)
        return [(row[:-1], float(row[-1])) for row in rows]


def spatial_extension_version(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("SELECT postgis_lib_version()")).scalar())
    return str(conn.execute(text("SELECT spatialite_version()")).scalar())


# --- Viewport grid clustering (public map) -------------------------------------------------------
# Added for the public map's viewport endpoint: points are grouped on a fixed world grid so clusters
# stay put while the user pans; the bbox filter uses the spatial index, then exact plain-column bounds.


def within_bbox_points(
    session: Session | Connection,
    geom_column: Any,
    lat_column: Any,
    lon_column: Any,
    table: str,
    bbox: tuple[float, float, float, float],
    *,
    use_index: bool = True,
) -> ColumnElement[bool]:
    """Predicate: point rows inside bbox; index-assisted, exact on the plain lat/lon copies.

    use_index=False when the box covers most rows anyway: then a plain scan is cheaper than the index.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    exact = and_(lon_column >= min_lon, lon_column <= max_lon, lat_column >= min_lat, lat_column <= max_lat)
    if not use_index:
        return exact
    if dialect_of(session) == "postgresql":
        envelope = func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, SRID)
        return and_(geom_column.op("&&")(envelope), exact)
    # The R*Tree stores float32 boxes, so it is only a prefilter; the plain columns decide exactly.
    return and_(_spatialite_index_filter(table, geom_column, bbox), exact)


def grid_cell_keys(
    session: Session | Connection, lat_column: Any, lon_column: Any, cell_lon: float, cell_lat: float
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Expressions (gx, gy): the integer grid cell of each point, on a grid anchored at (-180, -90)."""
    x = (lon_column + 180.0) / cell_lon
    y = (lat_column + 90.0) / cell_lat
    if dialect_of(session) == "postgresql":
        # PostgreSQL's CAST rounds; floor() is what a grid needs.
        return func.floor(x).cast(Integer), func.floor(y).cast(Integer)
    # SQLite's CAST truncates, which is floor for the non-negative values the offsets guarantee.
    return x.cast(Integer), y.cast(Integer)


# --- Reading a line back (the public ticket page draws a street-wide ticket's span) -------------------


def line_points(
    session: Session | Connection, column: Any, where: ColumnElement[bool]
) -> list[tuple[float, float]]:
    """The (lon, lat) points of the LINESTRING in `column` of the row `where` picks; [] when it has none.

    Read as WKT (ST_AsText on both backends) and parsed here: no shapely at query time (see database.py)."""
    wkt = session.execute(select(line_wkt(column)).where(where)).scalar()
    return parse_linestring(wkt)


def parse_linestring(wkt: str | None) -> list[tuple[float, float]]:
    """'LINESTRING(x y, x y, ...)' (also 'LINESTRING Z', as PostGIS and SpatiaLite write it; line_wkt
    reads it) -> (lon, lat) pairs; [] for None or anything else, so a malformed value is drawn as no line
    rather than an error."""
    if not wkt:
        return []
    head, _, rest = wkt.strip().partition("(")
    if not head.strip().upper().startswith("LINESTRING") or not rest.endswith(")"):
        return []
    points: list[tuple[float, float]] = []
    for pair in rest[:-1].split(","):
        parts = pair.split()
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            return []
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return []
        points.append((lon, lat))
    return points if len(points) >= 2 else []
