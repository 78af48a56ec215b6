"""`flask civictracker new-city`: a complete city pack from an OSM extract or a centerline file."""

from __future__ import annotations

from pathlib import Path

import click

from civictracker.citypack import CityPackError
from civictracker.cli.commands import civictracker_cli
from civictracker.newcity import NewCity, PackReport, check_round_trip, slug_of, write_city_pack

_FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


@civictracker_cli.command("new-city")
@click.argument("name")
@click.option("--osm", type=_FILE, help="An OpenStreetMap extract (.osm, .osm.pbf, .osm.bz2).")
@click.option("--centerlines", type=_FILE, help="Street centerlines instead: GeoJSON lines or CSV with WKT.")
@click.option("--name-field", default="name", show_default=True, help="Centerlines: the street name column.")
@click.option("--geometry-field", default="wkt", show_default=True, help="Centerlines CSV: the WKT column.")
@click.option("--boundary", type=_FILE, help="The city limits (GeoJSON polygon); else the streets' outline.")
@click.option("--timezone", required=True, help="IANA time zone, e.g. America/Los_Angeles.")
@click.option("--languages", default="en,es,pt,ht", show_default=True, help="Reply languages (a,b,...).")
@click.option("--emergency", default="911", show_default=True, help="The emergency number safety lines give.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Default: ./cities/<slug>.")
@click.option("--force", is_flag=True, help="Replace an existing pack at --out.")
@click.option("--check/--no-check", default=True, show_default=True, help='Geocode "A and B" back.')
def new_city_command(  # noqa: PLR0913 (one option per thing the data cannot tell)
    name: str,
    osm: Path | None,
    centerlines: Path | None,
    name_field: str,
    geometry_field: str,
    boundary: Path | None,
    timezone: str,
    languages: str,
    emergency: str,
    out: Path | None,
    force: bool,
    check: bool,
) -> None:
    """Write a city pack NAME: streets, intersections, places, catalog, templates; say what is missing."""
    if (osm is None) == (centerlines is None):
        raise click.UsageError("Give the streets with exactly one of --osm or --centerlines.")
    streets = osm or centerlines
    assert streets is not None
    spec = NewCity(
        name=name,
        streets=streets,
        timezone=timezone,
        out_dir=out or Path("cities") / slug_of(name),
        languages=tuple(lang.strip() for lang in languages.split(",") if lang.strip()) or ("en",),
        boundary=boundary,
        emergency=emergency,
        name_field=name_field,
        geometry_field=geometry_field,
    )
    try:
        report = write_city_pack(spec, force=force)
    except CityPackError as exc:
        raise click.ClickException(str(exc)) from None
    _print_report(report)
    if check:
        trip = check_round_trip(report.gazetteer)
        click.echo(
            f"  check:         {trip.within} of {trip.tried} intersections ({trip.share:.1%}) geocode back "
            'within 30 m when written "A and B"'
        )
        for miss in trip.misses[:5]:
            click.echo(f"                 missed: {miss}")
    click.echo("Use it:")
    click.echo(f"  export CIVICTRACKER_CITY={report.path}")
    click.echo("  flask --app wsgi civictracker init-db")
    click.echo("  flask --app wsgi civictracker create-user EMAIL --role admin")


def _print_report(report: PackReport) -> None:
    click.echo(f"Wrote the city pack {report.path} in {report.seconds:.1f} s")
    click.echo(f"  streets:       {report.streets} named streets in {report.segments} segments")
    click.echo(f"  intersections: {report.intersections}")
    click.echo(f"  places:        {report.places}")
    click.echo(f"  addresses:     {report.addresses}")
    click.echo(f"  boundary:      {report.boundary}")
    click.echo(f"  languages:     {', '.join(report.languages)}")
    if report.missing:
        click.echo("Missing (edit the pack before going live; docs/city-pack.md):")
        for item in report.missing:
            click.echo(f"  - {item}")
