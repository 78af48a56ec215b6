"""Write bench/data/storm_day.jsonl: a replay feed of one snow-storm day, each post with a gold `expect`.

PYTHONPATH=. python bench/make_storm_day.py [-n 1000] [--seed 13] [--variant dev|test]

Two days: `dev` (seed 13, the tables below; bench/data/storm_day.jsonl) was looked at while tuning the
inbox's routing; `test` (`--variant test --seed 29`, bench/data/storm_day_test.jsonl) is written in other
words (bench/storm_day_test_phrases.py) and is only run to report, never tuned on.

Every phrasing below was written for this file (not crisislex, not triage/data): requests (unplowed
streets, ice, outages, downed wires, flooding), questions (parking ban, trash, shelters), complaints and
anger at the city, praise for crews, follow-ups in the resident's own thread ("still not plowed, day 2"),
DMs with home addresses, chatter and spam, in English, Spanish, Portuguese and Haitian Creole. Places are
real Cambridge streets and corners (the pack's streets.csv: two segments sharing a node make a corner)
and addresses (addresses.csv). The replay channel keeps unknown fields in the post's raw JSON, so the gold
labels `expect` and `expect_lang` ride on each line; bench/bench_storm_day.py reads it.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
OUTS = {
    "dev": ROOT / "bench" / "data" / "storm_day.jsonl",
    "test": ROOT / "bench" / "data" / "storm_day_test.jsonl",
}
LANGS = (("en", 0.52), ("es", 0.2), ("pt", 0.15), ("ht", 0.13))

# {s}: a street, {c}: a corner "A St and B St" (joined per language), {a}: a house address
REQUESTS = {
    "en": [
        "@CambridgeMA {s} still hasn't seen a plow, cars are stuck",
        "{s} is a sheet of ice, nobody has salted it since last night",
        "power line down across {c}, sparking in the snow!!",
        "the whole block of {s} lost power around 3am, no heat",
        "storm drain at {c} is buried and the intersection is flooding",
        "plow left a 4 foot wall of snow blocking the crosswalk at {c}",
        "tree came down on {s} and is blocking both lanes",
        "water coming up through the street at {c}, looks like a broken main",
        "nobody shoveled the bus stop at {c}, people are standing in the road",
        "streetlights are out all along {s} tonight, can't see the ice",
        "huge branch hanging on a wire over {s}, looks ready to fall",
        "the hydrant at {c} is completely buried, please dig it out",
    ],
    "es": [
        "@CambridgeMA la {s} sigue sin pasar el quitanieves, los carros no pueden salir",
        "la calle {s} está hecha una pista de hielo, nadie ha echado sal",
        "hay un cable eléctrico caído en {c}, sale chispa",
        "se fue la luz en toda la {s} desde la madrugada y no hay calefacción",
        "se está inundando la esquina de {c}, la alcantarilla está tapada de nieve",
        "un árbol cayó en {s} y bloquea la calle",
        "el quitanieves dejó un muro de nieve en el cruce de {c}, no se puede cruzar",
    ],
    "pt": [
        "@CambridgeMA a {s} ainda não foi limpa, ninguém passou com o limpa-neve",
        "a {s} está toda congelada, muito perigoso andar",
        "tem um fio de luz caído na {c}, soltando faísca",
        "acabou a luz na {s} inteira desde ontem à noite",
        "a esquina da {c} está alagando, o bueiro está coberto de neve",
        "caiu uma árvore na {s} e fechou a rua",
    ],
    "ht": [
        "@CambridgeMA pa gen chase nèj ki pase nan {s} toujou, machin yo bloke",
        "{s} se glas nèt, pèsonn pa mete sèl",
        "gen yon fil kouran ki tonbe nan {c}, l ap fè etensèl",
        "pa gen kouran nan tout {s} depi maten an, pa gen chofaj",
        "dlo ap monte nan kwen {c}, twou egou a kouvri ak nèj",
        "yon pyebwa tonbe nan {s} epi li bloke lari a",
    ],
}
# DMs: a home address, often a phone
DM_REQUESTS = {
    "en": [
        "hi, I live at {a} and our sidewalk and driveway are solid ice, my mother uses a walker. 617-555-{n}",
        "our street has not been plowed at all, I'm at {a}, can someone come today",
        "power is out at {a} since midnight, there's a baby in the house. call me 617-555-{n}",
        "the snow from the plow buried my car and the hydrant in front of {a}",
    ],
    "es": [
        "hola, vivo en {a} y la acera está congelada, mi mamá no puede salir. 617-555-{n}",
        "no hay luz en {a} desde anoche y tenemos niños pequeños",
    ],
    "pt": [
        "oi, moro na {a} e a calçada está um gelo só, minha avó não consegue sair. 617-555-{n}",
        "estamos sem luz na {a} desde ontem, por favor mandem alguém",
    ],
    "ht": [
        "bonjou, mwen rete {a}, twotwa a se glas, manman m pa ka soti. 617-555-{n}",
        "pa gen kouran lakay mwen {a} depi yè swa, gen timoun piti",
    ],
}
QUESTIONS = {
    "en": [
        "@CambridgeMA is the snow emergency parking ban still on tonight?",
        "where can I park during the snow emergency? do the garages let residents in free?",
        "is trash pickup delayed because of the storm? we're on the Wednesday route",
        "when will the sidewalks around the schools be cleared? are schools open tomorrow?",
        "are there warming centers open tonight for people without heat?",
        "how long until side streets get plowed? main roads look fine",
        "can I get reimbursed if a plow damaged my car's mirror?",
        "does the city clear sidewalks for seniors who can't shovel?",
        "is the snow emergency over yet or do I still need to move my car?",
    ],
    "es": [
        "@CambridgeMA ¿sigue vigente la prohibición de estacionar por la nieve?",
        "¿dónde puedo estacionar durante la emergencia de nieve?",
        "¿se retrasa la recogida de basura por la tormenta?",
        "¿hay centros de calefacción abiertos esta noche?",
        "¿cuándo van a limpiar las calles pequeñas?",
    ],
    "pt": [
        "@CambridgeMA a proibição de estacionar por causa da neve ainda está valendo?",
        "onde posso estacionar durante a emergência de neve?",
        "a coleta de lixo vai atrasar por causa da tempestade?",
        "tem algum abrigo aquecido aberto hoje à noite?",
        "quando vão limpar as ruas menores do bairro?",
    ],
    "ht": [
        "@CambridgeMA èske entèdiksyon pou pake akoz nèj la toujou la?",
        "ki kote m ka pake machin mwen pandan ijans nèj la?",
        "èske yo ap ranmase fatra a an reta akoz tanpèt la?",
        "èske gen yon kote ki cho ki louvri aswè a?",
    ],
}
COMPLAINTS = {
    "en": [
        "@CambridgeMA you are completely useless, day two and nothing on our side of town. calling the mayor",
        "we pay the highest taxes around and the city can't plow a street. pathetic",
        "why does Harvard Square get plowed three times and our neighborhood zero times? unacceptable",
        "called 311 four times about the ice and nobody answers. what is the point",
        "the city ticketed my car during the ban but the plow never even came. joke",
        "this storm response is a disgrace, somebody should be fired",
    ],
    "es": [
        "@CambridgeMA qué vergüenza, dos días y nadie ha venido a nuestro barrio",
        "pagamos impuestos y la ciudad no puede limpiar una calle, inaceptable",
        "llamé cuatro veces y nadie contesta, la ciudad no sirve para nada",
    ],
    "pt": [
        "@CambridgeMA que vergonha, dois dias e ninguém apareceu no nosso bairro",
        "pagamos imposto e a cidade não consegue limpar uma rua, inaceitável",
        "liguei quatro vezes e ninguém atende, a prefeitura não serve pra nada",
    ],
    "ht": [
        "@CambridgeMA se yon wont, de jou e pèsonn pa vin nan katye nou an",
        "nou peye taks e vil la pa ka netwaye yon lari, sa pa akseptab",
        "mwen rele kat fwa e pèsonn pa reponn, vil la pa sèvi anyen",
    ],
}
PRAISE = {
    "en": [
        "@CambridgeMA huge thanks to the plow crews out all night, our street is clear 🙏",
        "shoutout to the DPW crew who dug out the bus stop by hand this morning",
        "the city crews have been amazing during this storm, thank you!",
        "thank you for clearing the sidewalks around the school so fast",
    ],
    "es": [
        "@CambridgeMA muchas gracias a los equipos que trabajaron toda la noche 🙏",
        "gracias a la ciudad, nuestra calle ya está limpia",
    ],
    "pt": [
        "@CambridgeMA muito obrigado às equipes que trabalharam a noite toda 🙏",
        "obrigada prefeitura, a nossa rua já está limpa",
    ],
    "ht": [
        "@CambridgeMA mèsi anpil pou ekip yo ki travay tout nwit lan 🙏",
        "mèsi vil la, lari nou an pwòp kounye a",
    ],
}
FOLLOWUPS = {
    "en": [
        "still not plowed, day 2",
        "still nothing here, it's been 30 hours",
        "any update? the ice is worse today",
        "still no power, it's getting really cold in the house",
        "still flooded, water is in our basement now",
    ],
    "es": ["todavía no han pasado, ya van dos días", "¿alguna novedad? sigue todo congelado"],
    "pt": ["ainda não limparam, já são dois dias", "alguma novidade? continua tudo congelado"],
    "ht": ["yo poko netwaye l, sa fè de jou", "gen nouvèl? tout bagay toujou glase"],
}
CHATTER = {
    "en": [
        "this is the most snow I've seen since 2015 ❄️",
        "built a snowman in the yard, the kids are thrilled",
        "anyone else just staying in and watching movies today",
    ],
    "es": ["nunca había visto tanta nieve ❄️", "los niños felices haciendo muñecos de nieve"],
    "pt": ["nunca vi tanta neve na vida ❄️", "as crianças adorando a neve hoje"],
    "ht": ["mwen pa janm wè tout nèj sa a ❄️", "timoun yo kontan ap jwe nan nèj la"],
}
SPAM = [
    "GET 5000 FOLLOWERS NOW!!! storm sale, dm us bit.ly/fast-gro",
    "make $$$ from home during the storm, click here bit.ly/xx99",
    "GANHE SEGUIDORES AGORA promoção de inverno bit.ly/segue",
]
# the share of each kind in the day (followups are added on top, after their parent request)
KINDS = (
    ("request", 0.42),
    ("dm", 0.12),
    ("question", 0.16),
    ("complaint", 0.12),
    ("praise", 0.08),
    ("chatter", 0.06),
    ("spam", 0.04),
)
JOIN = {"en": " and ", "es": " y ", "pt": " com ", "ht": " ak "}


def _streets() -> tuple[list[str], list[tuple[str, str]], dict[str, tuple[float, float]]]:
    """Real street names, real corners (two streets sharing a node) and a point on each street."""
    by_node: dict[str, set[str]] = defaultdict(set)
    points: dict[str, tuple[float, float]] = {}
    with open(PACK / "streets.csv", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["street"].strip()
            if not name:
                continue
            for node in (row["fromnode"], row["tonode"]):
                by_node[node].add(name)
            if name not in points and row["wkt"].startswith("LINESTRING ("):
                lon, lat = row["wkt"][len("LINESTRING (") :].split(",")[0].split()
                points[name] = (float(lat), float(lon))
    corners = sorted({tuple(sorted(names))[:2] for names in by_node.values() if len(names) >= 2})
    return sorted(points), [(a, b) for a, b in corners], points


def _addresses() -> list[str]:
    with open(PACK / "addresses.csv", encoding="utf-8-sig", newline="") as fh:
        return sorted(r["full_address"] for r in csv.DictReader(fh) if r.get("full_address"))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _tables(variant: str) -> dict[str, dict[str, list[str]]]:
    """The phrase tables of a variant: this module's (dev) or the held-out ones (test)."""
    if variant == "dev":
        mod = globals()
    else:
        import storm_day_test_phrases as held_out  # bench/ is on sys.path when run as a script

        mod = vars(held_out)
    names = ("REQUESTS", "DM_REQUESTS", "QUESTIONS", "COMPLAINTS", "PRAISE", "FOLLOWUPS", "CHATTER")
    tables: dict[str, dict[str, list[str]]] = {name.lower(): mod[name] for name in names}
    tables["spam"] = {"en": mod["SPAM"]}
    return tables


def make_day(n: int, seed: int, variant: str = "dev") -> list[dict[str, object]]:
    """`n` first posts over 24 hours plus follow-ups in the threads of about a fifth of the requests."""
    rng = random.Random(seed)
    t = _tables(variant)
    prefix = "storm" if variant == "dev" else f"storm-{variant}"
    streets, corners, points = _streets()
    addresses = rng.sample(_addresses(), 600)
    authors = [f"u-{i}" for i in range(int(n * 0.8))]
    posts: list[dict[str, object]] = []
    written: dict[str, str] = {}  # id -> the language the post was written in
    for i in range(n):
        lang, kind = _pick(rng, LANGS), _pick(rng, KINDS)
        author = rng.choice(authors)
        street, corner = rng.choice(streets), rng.choice(corners)
        fill = {
            "s": street,
            "c": JOIN[lang].join(corner),
            "a": rng.choice(addresses),
            "n": f"{rng.randrange(100, 10000):04d}",
        }
        expect, post_kind = kind, "mention"
        if kind == "request":
            text = rng.choice(t["requests"][lang]).format(**fill)
        elif kind == "dm":
            text, expect, post_kind = rng.choice(t["dm_requests"][lang]).format(**fill), "request", "dm"
        elif kind == "spam":
            text, lang = rng.choice(t["spam"]["en"]), "en"
        else:
            table = {"question": "questions", "complaint": "complaints", "praise": "praise"}.get(kind, kind)
            text = rng.choice(t[table][lang])
            if kind in ("question", "complaint") and rng.random() < 0.15:
                post_kind = "dm"  # a question or complaint sent privately
                text = text.replace("@CambridgeMA ", "")
        if rng.random() < 0.2:
            text = text.lower()
        geo = None
        if kind == "request" and rng.random() < 0.3:  # a phone's location on a public report
            lat, lon = points[street]
            geo = {
                "lat": round(lat + rng.uniform(-2e-4, 2e-4), 6),
                "lon": round(lon + rng.uniform(-2e-4, 2e-4), 6),
            }
        written[f"{prefix}-{i + 1:04d}"] = lang
        posts.append(
            {
                "id": f"{prefix}-{i + 1:04d}",
                "kind": post_kind,
                "author_id": author,
                "author_handle": f"{author.replace('-', '_')}_cam",
                "text": text,
                "offset_s": round(rng.uniform(0, 86_400), 1),
                "in_reply_to": None,
                "conversation_id": None,
                "geo": geo,
                "lang": lang if rng.random() < 0.5 else None,  # platforms give a language for about half
                "expect": expect,
                "expect_lang": lang,  # the language it was written in (`lang` is what a platform says)
            }
        )
    public_requests = [p for p in posts if p["expect"] == "request" and p["kind"] == "mention"]
    for parent in rng.sample(public_requests, len(public_requests) // 4):
        lang = written[str(parent["id"])]
        posts.append(
            {
                "id": f"{parent['id']}-f",
                "kind": "reply",
                "author_id": parent["author_id"],
                "author_handle": parent["author_handle"],
                "text": rng.choice(t["followups"][lang]),
                "offset_s": round(min(86_400.0, float(parent["offset_s"]) + rng.uniform(3_600, 30_000)), 1),  # type: ignore[arg-type]
                "in_reply_to": parent["id"],
                "conversation_id": parent["id"],
                "geo": None,
                "lang": parent["lang"],
                "expect": "followup",
                "expect_lang": lang,
            }
        )
    posts.sort(key=lambda p: (float(p["offset_s"]), str(p["id"])))  # type: ignore[arg-type]
    return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="first posts (follow-ups come on top)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--variant", choices=sorted(OUTS), default="dev")
    args = parser.parse_args()
    posts = make_day(args.n, args.seed, args.variant)
    out = OUTS[args.variant]
    with open(out, "w", encoding="utf-8") as fh:
        for post in posts:
            fh.write(json.dumps(post, ensure_ascii=False) + "\n")
    print(f"wrote {len(posts)} posts to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
