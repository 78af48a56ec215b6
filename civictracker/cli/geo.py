"""`flask civictracker geocode`: one text, or JSON lines on stdin, against the city's gazetteer, offline."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from civictracker.cli.commands import (
    city_gazetteer,
    city_remote,
    civictracker_cli,
    parse_geotag,
    read_jsonl_objects,
)

RESULT_KEYS = ("lat", "lon", "precision", "confidence", "matched", "reason")


def _not_found(reason: str) -> dict[str, Any]:
    return {"lat": None, "lon": None, "precision": None, "confidence": 0.0, "matched": None, "reason": reason}


def _result_line(gz: Any, text: object, geotag: object = None) -> dict[str, Any]:
    from civictracker.services.geocoding import locate_text

    if not isinstance(text, str):
        return _not_found("text must be a string")
    # locate_text: offline, then the remote fallback when CIVICTRACKER_GEOCODER_REMOTE configures one.
    result = locate_text(gz, text, parse_geotag(geotag), city_remote())[0].to_dict()
    return {k: result.get(k) for k in RESULT_KEYS}


@civictracker_cli.command("geocode")
@click.argument("text", required=False)
@click.option(
    "--jsonl", is_flag=True, help='Read {"id", "text"} JSON lines on stdin; write one result line each.'
)
@with_appcontext
def geocode_command(text: str | None, jsonl: bool) -> None:
    """Print the best location of TEXT (or of each JSON line) as JSON: lat, lon, precision, confidence..."""
    gz = city_gazetteer()  # with the remote fallback when CIVICTRACKER_GEOCODER_REMOTE configures one
    if not jsonl:
        if text is None:
            raise click.UsageError("Give TEXT, or --jsonl with JSON lines on stdin.")
        click.echo(json.dumps(_result_line(gz, text), ensure_ascii=False))
        return
    for _n, item, error in read_jsonl_objects():
        if item is None:
            out = {"id": None, **_not_found(error or "unreadable line")}
        else:
            out = {"id": item.get("id"), **_result_line(gz, item.get("text"), item.get("geotag"))}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
