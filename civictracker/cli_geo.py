"""`flask civictracker geocode`: one text, or JSON lines on stdin, against the city's gazetteer, offline."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from civictracker.cli import civictracker_cli


def _gazetteer():  # type: ignore[no-untyped-def]
    from civictracker.app import city_of, settings_of
    from civictracker.services.geocoding import get_gazetteer

    settings = settings_of(current_app)
    return get_gazetteer(city_of(current_app).path, settings.resolved_instance_path / "cache")


def _result_line(gz, text: object, geotag: object = None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from civictracker.geo.geocode import geocode_text

    if not isinstance(text, str):
        return {
            "lat": None,
            "lon": None,
            "precision": None,
            "confidence": 0.0,
            "matched": None,
            "reason": "text must be a string",
        }
    tag = None
    if isinstance(geotag, dict) and "lat" in geotag and "lon" in geotag:
        tag = (geotag["lat"], geotag["lon"])
    elif isinstance(geotag, list | tuple) and len(geotag) == 2:
        tag = (geotag[0], geotag[1])
    result = geocode_text(gz, text, tag).to_dict()
    return {k: result.get(k) for k in ("lat", "lon", "precision", "confidence", "matched", "reason")}


@civictracker_cli.command("geocode")
@click.argument("text", required=False)
@click.option(
    "--jsonl", is_flag=True, help='Read {"id", "text"} JSON lines on stdin; write one result line each.'
)
@with_appcontext
def geocode_command(text: str | None, jsonl: bool) -> None:
    """Print the best location of TEXT (or of each JSON line) as JSON: lat, lon, precision, confidence..."""
    gz = _gazetteer()
    if not jsonl:
        if text is None:
            raise click.UsageError("Give TEXT, or --jsonl with JSON lines on stdin.")
        click.echo(json.dumps(_result_line(gz, text), ensure_ascii=False))
        return
    stdin = click.get_text_stream("stdin", errors="replace")
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
        except ValueError as exc:
            out = {
                "id": None,
                "lat": None,
                "lon": None,
                "precision": None,
                "confidence": 0.0,
                "matched": None,
                "reason": f"line {n}: not a JSON object ({exc})",
            }
        else:
            out = {"id": item.get("id"), **_result_line(gz, item.get("text"), item.get("geotag"))}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
