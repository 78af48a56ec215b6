"""Build the real-style Cambridge geocode set: real Boston 311 sentences with Cambridge places put in.

Every item is a real description a Boston resident typed (data/boston_open311_text, PDDL). Where the
description names the request's own street(s), those words are replaced by a Cambridge street, address,
intersection or place written the way the resident wrote the Boston one: same case, type written or not,
abbreviated or long, trailing dot, house-number range and unit letter, a misspelling where the resident
misspelt. Postal tails ("Boston, MA 02135", "Dorchester") become Cambridge's. The expected point is the
resident's pin moved to Cambridge: the official intersection node, the gazetteer's interpolated point of
the address, or the place's point; a text that names only a street keeps a pin somewhere on it (as a
resident's map pin would be), so such items are hard on purpose.

Deterministic: the same seed gives the same files. The split (dev / test) is by a hash of the Boston
request id, so an item never moves between splits when the generator changes. Tune only on dev.

    python bench/make_realstyle_geocode.py            # writes bench/data/realstyle_geocode_{dev,test}.jsonl
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA  # noqa: E402
from civictracker.geo import load_gazetteer  # noqa: E402
from civictracker.geo.gazetteer import Gazetteer  # noqa: E402
from civictracker.geo.lexicon import default_lexicon  # noqa: E402

STREET_TYPES = default_lexicon().street_types

PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
BOSTON = SHARED_DATA / "boston_open311_text"
CAMBRIDGE_GZ = SHARED_DATA / "cambridge_ma_gazetteer"
OUT = ROOT / "bench" / "data"
FILES = ("other", "sidewalk_not_shoveled", "abandoned_vehicle", "illegal_parking", "unsafe_dangerous")
# Boston neighbourhood names that end a postal address ("12 X St, Dorchester"): they become the city.
BOSTON_AREAS = (
    "South Boston|East Boston|West Roxbury|Jamaica Plain|Hyde Park|Mission Hill|Back Bay|Beacon Hill|"
    "North End|South End|Dorchester|Roxbury|Brighton|Allston|Charlestown|Roslindale|Mattapan|Fenway|"
    "Chinatown|Boston"
)
_AREA_RE = re.compile(rf"\b(?:{BOSTON_AREAS})\b", re.I)
_ZIP_RE = re.compile(r"\b02\d{3}\b")
_TYPE_RE = "|".join(sorted((re.escape(k) for k in STREET_TYPES if len(k) > 1), key=len, reverse=True))
LONG = {
    "st": "Street",
    "ave": "Avenue",
    "rd": "Road",
    "pl": "Place",
    "dr": "Drive",
    "ct": "Court",
    "ter": "Terrace",
    "pkwy": "Parkway",
    "ln": "Lane",
    "cir": "Circle",
    "hwy": "Highway",
    "blvd": "Boulevard",
    "sq": "Square",
    "way": "Way",
    "pk": "Park",
}
ORDINAL_WORDS = {
    "First": "1st",
    "Second": "2nd",
    "Third": "3rd",
    "Fourth": "4th",
    "Fifth": "5th",
    "Sixth": "6th",
    "Seventh": "7th",
    "Eighth": "8th",
}
PLACE_WORDS = r"Park|Playground|School|Field|Square|Library|Station|Plaza|Common|Garden"
PLACE_TYPES = {"CITY PARK", "CITY SCHOOL", "MBTA", "CITY PLAZA", "MUNICIPAL", "COMMUNITY GARDEN"}
_NUMS_RE = re.compile(
    r"((?:\d+[A-Za-z]?\s*(?:and|&|-|\u2013|to|or|,)\s*)*#?\d+[A-Za-z]?)(\s*(?:[Rr]ear\s+)?)$"
)


@dataclass
class Mention:
    start: int
    end: int
    base: str  # Boston street base name, lower case
    name_text: str  # the words as written
    type_text: str  # the type word as written ("" when none), with its dot
    typo: bool


def read_boston() -> list[dict[str, str]]:
    rows = []
    for name in FILES:
        with gzip.open(BOSTON / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh)
    return rows


def split_street(name: str) -> tuple[str, str]:
    words = name.strip().split()
    if len(words) >= 2 and words[-1].lower().rstrip(".") in STREET_TYPES:
        return " ".join(words[:-1]), words[-1]
    return name.strip(), ""


def field_streets(address: str) -> tuple[str, list[str], int | None]:
    """("intersection" | "address" | "", Boston streets of the request's address field, house number)."""
    m = re.match(r"\s*intersection of (.+?) & (.+?)(?:,|$)", address or "", re.I)
    if m:
        return "intersection", [m.group(1).strip(), m.group(2).strip()], None
    m = re.match(
        r"\s*(\d+)[A-Za-z]?(?:\s*[-\u2013]\s*\d+[A-Za-z]?)?\s*(?:\d+[A-Za-z]?\s+)?([A-Za-z].+?)(?:,|$)",
        address or "",
    )
    if m:
        street = re.split(r"\s+(?:Boston|" + BOSTON_AREAS + r")\b", m.group(2))[0]
        return "address", [street.strip()], int(m.group(1))
    return "", [], None


def boston_bases(rows: list[dict[str, str]]) -> set[str]:
    out = set()
    for r in rows:
        _, streets, _ = field_streets(r.get("address") or "")
        for s in streets:
            base, typ = split_street(s)
            if typ and len(base) >= 3:
                out.add(base.lower())
    return out


def _joined_mention(hit: re.Match[str]) -> Mention:
    """A Boston street name met after a join word or "corner of": not the request's own street."""
    return Mention(
        hit.start(), hit.end(), hit.group("name").lower(), hit.group("name"), hit.group("type") or "", False
    )


def find_mentions(text: str, own: list[str], bases_re: re.Pattern[str]) -> list[Mention]:
    """Street mentions in a Boston description: typed names of any Boston street, the request's own
    street also untyped, and a misspelt own street right before a type word."""
    own_bases = {split_street(s)[0].lower() for s in own}
    out: list[Mention] = []
    for m in bases_re.finditer(text):
        base = m.group("name").lower()
        typ = m.group("type") or ""
        if not typ and base not in own_bases:
            continue
        out.append(Mention(m.start(), m.end(), base, m.group("name"), typ, False))
    # An untyped name of any Boston street joined to a found one, or after "corner of" ("Corner of Reed
    # and Boutwell" names both).
    joins = re.compile(r"\s*(?:and|&|/|@|at|x|\+|-)\s*", re.I)
    grew = True
    while grew:
        grew = False
        spans = {(m.start, m.end) for m in out}
        for m in list(out):
            j = joins.match(text, m.end)
            if j:
                hit = bases_re.match(text, j.end())
                if hit and (hit.start(), hit.end()) not in spans:
                    out.append(_joined_mention(hit))
                    grew = True
        for c in re.finditer(r"\b(?:corner of|intersection of|cor\. of)\s+", text, re.I):
            hit = bases_re.match(text, c.end())
            if hit and (hit.start(), hit.end()) not in spans:
                out.append(_joined_mention(hit))
                spans.add((hit.start(), hit.end()))
                grew = True
        out = sorted(out, key=lambda x: x.start)
        # overlapping mentions: keep the first
        kept: list[Mention] = []
        for m in out:
            if not kept or m.start >= kept[-1].end:
                kept.append(m)
        out = kept
    taken = [(m.start, m.end) for m in out]
    for m in re.finditer(
        rf"\b(?P<name>[A-Za-z]{{4,}})\s+(?P<type>(?:{_TYPE_RE})\.?)(?![A-Za-z])", text, re.I
    ):
        if any(a <= m.start() < b for a, b in taken):
            continue
        word = m.group("name").lower()
        near = [b for b in own_bases if " " not in b and _close(word, b)]
        if near:
            out.append(Mention(m.start(), m.end(), near[0], m.group("name"), m.group("type"), True))
    return sorted(out, key=lambda x: x.start)


def _close(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 2 or a[0] != b[0]:
        return False
    from rapidfuzz.distance import DamerauLevenshtein

    return DamerauLevenshtein.distance(a, b) <= (1 if len(b) <= 6 else 2)


def styled(name: str, typ: str, mention: Mention, rng: random.Random) -> str:
    """A Cambridge street name written as the resident wrote the Boston one."""
    words = name
    if mention.typo:
        words = _misspell(words, rng)
    t = mention.type_text
    if t:
        dot = "." if t.endswith(".") else ""
        core = t.rstrip(".")
        long_form = len(core) > 4 or core.lower() in {"road", "way", "lane", "row", "park"}
        out_type = LONG.get(typ, typ.title()) if long_form else typ.title()
        if core.isupper() and len(core) > 1:
            out_type = out_type.upper()
        elif core.islower():
            out_type = out_type.lower()
        text = f"{words} {out_type}{dot if not long_form else ''}"
    else:
        text = words
    written = mention.name_text
    if written.islower():
        return text.lower()
    if written.isupper() and len(written) > 2:
        return text.upper()
    return text


def _misspell(words: str, rng: random.Random) -> str:
    parts = words.split()
    k = max(range(len(parts)), key=lambda i: len(parts[i]))
    w = parts[k]
    if len(w) >= 5:
        i = rng.randrange(1, len(w) - 1)
        op = rng.choice(("drop", "swap", "double"))
        if op == "drop":
            w = w[:i] + w[i + 1 :]
        elif op == "swap":
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        else:
            w = w[:i] + w[i] + w[i:]
    parts[k] = w
    return " ".join(parts)


class Cambridge:
    """The Cambridge side: streets as residents name them, addresses, intersections, places."""

    def __init__(self, gz: Gazetteer, rng: random.Random) -> None:
        self.gz = gz
        self.rng = rng
        city = json.loads((PACK / "city.json").read_text(encoding="utf-8"))
        self.aliases: dict[str, list[str]] = {}
        for alias, target in (city.get("geo", {}).get("aliases") or {}).items():
            for s in gz.lookup_name(target)[:1]:
                if alias.split()[-1].lower().rstrip(".") in STREET_TYPES and "Bridge" not in alias:
                    self.aliases.setdefault(s, []).append(alias)
        self.addresses: list[tuple[str, int, str, str]] = []  # street, number, suffix, zip
        with (PACK / "addresses.csv").open(newline="", encoding="utf-8-sig") as fh:
            for r in csv.DictReader(fh):
                sts = gz.lookup_name(f"{r['street_name']} {r['street_type']} {r['street_direction']}")
                if not sts:
                    continue
                hit = gz.segment_for(sts[0], int(r["street_number"]))
                if hit is None:
                    continue
                self.addresses.append(
                    (sts[0], int(r["street_number"]), r["street_number_suffix"], hit[0].zip or "")
                )
        self.intersections: list[tuple[str, str, float, float]] = []
        with (CAMBRIDGE_GZ / "intersections.csv").open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                parts = r["intersection"].split(" & ")
                if len(parts) != 2:
                    continue
                a, b = (gz.lookup_name(p) for p in parts)
                # "Trowbridge St & Trowbridge Pl" is no corner a resident names by its words alone.
                if a and b and split_street(a[0])[0] != split_street(b[0])[0]:
                    self.intersections.append((a[0], b[0], float(r["lon"]), float(r["lat"])))
        self.places = []
        poi_types: dict[str, str] = {}
        with (PACK / "places_poi.csv").open(newline="", encoding="utf-8-sig") as fh:
            for r in csv.DictReader(fh):
                poi_types[r["Point_of_interest_name"]] = r["poi_type_desc"]
        for p in gz.places:
            wanted = p.kind == "landmark" or (p.kind == "poi" and poi_types.get(p.name) in PLACE_TYPES)
            # "Cambridge Public Library - Main Library", "Municipal Lot 12": names no resident writes.
            if wanted and not re.search(r" - |\(|\d|Lot|Box|Garage", p.name):
                self.places.append(p)

    def street_name(self, street: str) -> tuple[str, str]:
        """(name without type, canonical type) as a resident might write it."""
        choices = [street, *self.aliases.get(street, [])]
        written = self.rng.choice(choices) if len(choices) > 1 and self.rng.random() < 0.6 else street
        base, typ = split_street(written)
        first = base.split()[0]
        if first in ORDINAL_WORDS and self.rng.random() < 0.5:
            base = base.replace(first, ORDINAL_WORDS[first], 1)
        t = typ.lower().rstrip(".")
        return base, STREET_TYPES.get(t, t)

    def cross_streets(self, street: str, pt: tuple[float, float]) -> list[str]:
        """Streets meeting `street`, nearest the point first."""
        out = []
        for (a, b), js in self.gz.junctions.items():
            if street in (a, b) and js:
                other = b if a == street else a
                d = min(self.gz.distance_m(pt, (j.lon, j.lat)) for j in js)
                out.append((d, other))
        return [s for _d, s in sorted(out)]

    def number_near(self, street: str, pt: tuple[float, float]) -> int | None:
        hit = self.gz.nearest_segment(pt[1], pt[0], max_m=60, street=street)
        if hit is None:
            return None
        seg = hit[0]
        for a in (seg.l_from, seg.r_from, seg.l_to, seg.r_to):
            if a and a > 0:
                return a
        return None


def _recase(text: str, like: str) -> str:
    if like.islower():
        return text.lower()
    if like.isupper() and len(like) > 3:
        return text.upper()
    return text


def make_item(
    row: dict[str, str], cam: Cambridge, bases_re: re.Pattern[str], rng: random.Random
) -> dict | None:
    text = row["description"]
    kind, own, _field_num = field_streets(row.get("address") or "")
    if not kind:
        return None
    ms = find_mentions(text, own, bases_re)
    distinct = list(dict.fromkeys(m.base for m in ms))
    own_bases = [split_street(s)[0].lower() for s in own]
    if not ms:
        return make_place_item(row, cam, rng)
    if len(distinct) > 2 or not any(b in own_bases for b in distinct):
        return None
    nums = {i: _NUMS_RE.search(text[: m.start]) for i, m in enumerate(ms)}
    gz = cam.gz
    mapping: dict[str, str] = {}
    if kind == "address":
        street, number, _suffix, zip_code = rng.choice(cam.addresses)
        seg, frac, _ = gz.segment_for(street, number)  # type: ignore[misc]
        pin = gz.point_along(seg, frac)
        main = own_bases[0] if own_bases[0] in distinct else distinct[0]
        mapping[main] = street
        others = [b for b in distinct if b != main]
        if others:
            crosses = cam.cross_streets(street, pin)
            if not crosses:
                return None
            mapping[others[0]] = crosses[0]
        has_num = any(nums[i] for i, m in enumerate(ms) if m.base == main)
        item_kind = "address" if has_num else ("street_cross" if others else "street_only")
    else:
        street, cross, lon, lat = rng.choice(cam.intersections)
        if rng.random() < 0.5:
            street, cross = cross, street
        pin = (lon, lat)
        zip_code = ""
        a, b = own_bases
        if a == b:
            return None
        if a in distinct and b in distinct:
            mapping = {a: street, b: cross}
        else:
            named = next(x for x in distinct if x in (a, b))
            mapping[named] = street
            rest = [x for x in distinct if x != named]
            if rest:
                mapping[rest[0]] = cross
        item_kind = "intersection" if len(mapping) == 2 else "street_only"
        number = cam.number_near(street, pin) or 0
        if any(nums[i] for i in nums):
            if not number:
                return None
            item_kind = "address_near_corner" if len(mapping) == 1 else "address_cross"
    names = {b: cam.street_name(s) for b, s in mapping.items()}
    pieces: list[str] = []
    pos = 0
    for i, m in enumerate(ms):
        base, typ = names[m.base]
        start = m.start
        nm = nums[i]
        if nm and mapping[m.base] == street:
            start = nm.start(1)
            pieces.append(_postal(text[pos:start], zip_code))
            pieces.append(_renumber(nm.group(1), number, street, gz) + nm.group(2))
        else:
            pieces.append(_postal(text[pos:start], zip_code))
        pieces.append(styled(base, typ, m, rng))
        pos = m.end
    pieces.append(_postal(text[pos:], zip_code))
    out = "".join(pieces)
    return {
        "kind": item_kind,
        "text": out,
        "lat": round(pin[1], 7),
        "lon": round(pin[0], 7),
        "ref": {
            "streets": list(dict.fromkeys(mapping.values())),
            "number": number if "address" in item_kind else None,
        },
        "boston_id": row["id"],
    }


def _renumber(nums: str, number: int, street: str, gz: Gazetteer) -> str:
    """House numbers as written ("12-14", "43 and 45", "#3"): the first becomes the Cambridge number, the
    others keep their distance from it."""
    shift = number - int(re.findall(r"\d+", nums)[0])

    def one(m: re.Match[str]) -> str:
        n = int(m.group(0)) + shift
        if n < 1 or (n != number and gz.segment_for(street, n) is None):
            n = number
        return str(n)

    return re.sub(r"\d+", one, nums)


def _postal(text: str, zip_code: str) -> str:
    text = _AREA_RE.sub(lambda m: _recase("Cambridge", m.group(0)), text)
    return _ZIP_RE.sub(zip_code or "02139", text)


def make_place_item(row: dict[str, str], cam: Cambridge, rng: random.Random) -> dict | None:
    text = row["description"]
    m = re.search(rf"\b((?:[A-Z][a-z']+\s+){{1,3}})({PLACE_WORDS})\b(?!\s+(?:{_TYPE_RE})\b)", text)
    if m is None or re.match(r"(?:The|A|An|This|That|My|Our|In|At|On|Near|By)\b", m.group(1)):
        return None
    p = rng.choice(cam.places)
    name = p.name
    aliases = [a for a in p.aliases if len(a) > 3]
    if aliases and rng.random() < 0.4:
        name = rng.choice(aliases)
    out = _postal(text[: m.start()], "") + name + _postal(text[m.end() :], "")
    return {
        "kind": "place",
        "text": out,
        "lat": round(p.lat, 7),
        "lon": round(p.lon, 7),
        "ref": {"place": p.name},
        "boston_id": row["id"],
    }


def split_of(boston_id: str) -> str:
    return "dev" if int(hashlib.sha1(boston_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=311)
    ap.add_argument("--per-split", type=int, default=500)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    gz = load_gazetteer(PACK)
    cam = Cambridge(gz, rng)
    rows = read_boston()
    bases = sorted(boston_bases(rows), key=len, reverse=True)
    bases_re = re.compile(
        r"(?<![A-Za-z])(?P<name>" + "|".join(re.escape(b) for b in bases) + r")"
        rf"(?:\s+(?P<type>(?:{_TYPE_RE})\.?)(?![A-Za-z]))?(?![A-Za-z])",
        re.I,
    )
    rng.shuffle(rows)
    out: dict[str, list[dict]] = {"dev": [], "test": []}
    kinds: Counter[str] = Counter()
    for row in rows:
        split = split_of(row["id"])
        if len(out[split]) >= args.per_split or len(row["description"]) > 600:
            continue
        item = make_item(row, cam, bases_re, rng)
        if item is None:
            continue
        item["id"] = f"rs-{split}-{len(out[split]):04d}"
        item["split"] = split
        out[split].append(item)
        kinds[f"{split}:{item['kind']}"] += 1
        if all(len(v) >= args.per_split for v in out.values()):
            break
    args.out.mkdir(parents=True, exist_ok=True)
    for split, items in out.items():
        path = args.out / f"realstyle_geocode_{split}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for it in items:
                keys = ("id", "split", "kind", "text", "lat", "lon", "ref", "boston_id")
                fh.write(json.dumps({k: it[k] for k in keys}, ensure_ascii=False) + "\n")
        print(f"wrote {len(items)} items to {path}")
    print("kinds:", dict(sorted(kinds.items())))


if __name__ == "__main__":
    main()
