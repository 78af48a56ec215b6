"""`new-city` on the shared OpenStreetMap samples: what it finds, how long it takes, and the share of
each city's intersections that geocode back within 30 m when written "A and B"."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA  # noqa: E402
from civictracker.geo.gazetteer import Gazetteer  # noqa: E402
from civictracker.geo.pack_loader import build_from_pack  # noqa: E402
from civictracker.newcity import NewCity, check_round_trip, write_city_pack  # noqa: E402

SAMPLES = SHARED_DATA / "osm_samples"
CITIES = [
    ("West Oakland, CA", SAMPLES / "West-Oakland.osm.bz2", "America/Los_Angeles"),
    ("München", SAMPLES / "planet_munich_small.osm", "Europe/Berlin"),
]
# The same corners written as residents of a city write them (the pack's language.json words).
FORMS = {
    "München": ["{a} und {b}", "Ecke {a} und {b}", "an der Ecke {a} und {b}"],
    "Cambridge (pack)": ["{a} y {b}", "esquina de {a} y {b}", "kwen {a} ak {b}", "Ecke {a} und {b}"],
}


def _forms(city: str, gz: Gazetteer) -> None:
    for form in FORMS.get(city, []):
        trip = check_round_trip(gz, form=form)
        print(f"    {form!r:28} {trip.within}/{trip.tried} = {trip.share:.1%}")


def main() -> None:
    print(f"{'city':18} {'streets':>7} {'segments':>8} {'corners':>7} {'places':>6} {'addr':>5} "
          f"{'write s':>7} {'check s':>7}  A-and-B within 30 m")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, extract, zone in CITIES:
            report = write_city_pack(NewCity(name, extract, zone, Path(tmp) / name.split(",")[0]))
            t0 = time.perf_counter()
            trip = check_round_trip(report.gazetteer)
            check_s = time.perf_counter() - t0
            print(
                f"{name:18} {report.streets:7} {report.segments:8} {report.intersections:7} {report.places:6} "
                f"{report.addresses:5} {report.seconds:7.2f} {check_s:7.2f}  "
                f"{trip.within}/{trip.tried} = {trip.share:.1%}"
            )
            for miss in trip.misses[:3]:
                print(f"    missed: {miss}")
            _forms(name, report.gazetteer)
    # The samples are a few blocks each; the demo city's own pack shows the check at city scale.
    t0 = time.perf_counter()
    gz = build_from_pack(ROOT / "civictracker" / "cities" / "cambridge_ma")
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    trip = check_round_trip(gz)
    print(
        f"{'Cambridge (pack)':18} {len(gz.streets):7} {len(gz.segments):8} {len(gz.junctions):7} "
        f"{len(gz.places):6} {sum(len(n) for n in gz.addresses.values()):5} {build_s:7.2f} "
        f"{time.perf_counter() - t0:7.2f}  {trip.within}/{trip.tried} = {trip.share:.1%} ({trip.tried} of {len(gz.junctions)} pairs)"
    )
    for miss in trip.misses[:8]:
        print(f"    missed: {miss}")
    _forms("Cambridge (pack)", gz)


if __name__ == "__main__":
    main()
