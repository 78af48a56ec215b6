"""Emergencies: urgent requests with a hazard kind and a sensible service, in four languages and any hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civictracker.triage.classify import REQUEST_THRESHOLD, triage_text
from civictracker.triage.rules import hazard_kinds, hazard_service, urgent_reasons

EVAL = Path(__file__).resolve().parents[2] / "data" / "emergency_eval.jsonl"


@pytest.mark.parametrize(
    ("text", "kind", "service"),
    [
        ("smells like gas in the hallway", "gas", "other"),
        ("gas odor on Elm", "gas", "other"),
        ("reeks of gas on my street rn", "gas", "other"),
        ("wire down sparking", "electric", "power_outage"),
        ("live wire on sidewalk", "electric", "power_outage"),
        ("manhole cover missing", "open_manhole", "water_sewer"),
        ("someone stuck in elevator", "trapped", "other"),
        ("CO alarm going off in my apt", "carbon_monoxide", "other"),
        ("fire in the building next door", "fire", "other"),
        ("water main break on Putnam, water pouring into basements", "water", "water_sewer"),
        ("tree fell on a car on Oak st", "tree", "tree"),
        ("ceiling collapsed in our apartment", "collapse", "other"),
        ("huele a gas", "gas", "other"),
        ("cable caído en la calle echando chispas", "electric", "power_outage"),
        ("alcantarilla sin tapa en la calle Cambridge", "open_manhole", "water_sewer"),
        ("cheiro de gás", "gas", "other"),
        ("tá cheirando gás aqui no corredor", "gas", "other"),
        ("bueiro sem tampa na rua Windsor", "open_manhole", "water_sewer"),
        ("fil kouran tonbe", "electric", "power_outage"),
        ("mwen santi gaz nan koridò a", "gas", "other"),
        ("gen yon moun ki bloke nan asansè a", "trapped", "other"),
        # An alarm sounding is where the resident is, however unsure the model is of the wording.
        ("detector de monóxido disparou aqui em casa", "carbon_monoxide", "other"),
        ("detektè monoksid la ap sonnen, tout moun gen tèt fè mal", "carbon_monoxide", "other"),
    ],
)
def test_emergencies_are_urgent_requests_with_their_kind(text: str, kind: str, service: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.urgent, result.reasons
    assert result.hazards[0] == kind
    assert result.service_code == service


@pytest.mark.parametrize(
    "text",
    [
        "gas station on mass ave",
        "Gas prices are insane",
        "fire hydrant leaking on Elm st",
        "fireworks all night on river st",
        "smoke detector test today in our building",
        "huge fire in Somerville on the news",
        "my mixtape is fire",
        "the old fire house on Mass Ave is now a restaurant",
        "simulacro de incendio en la escuela hoy",
        "essa música é fogo",
        "stuck in traffic on mass ave for an hour",
        "car parked in the fire lane again on Elm st",
        "fire command box light out on Hampshire st",
        "the fire crews did a great job at the open house",
        "combustible junk piled on the fire escapes on Pearl st",
        "please fix the railing on Elm st before someone gets hurt",
        "a kid could get hurt on that broken swing",
        "we co own the building and the rent says it is going up",
        "my co-worker says the co-op board is going to raise fees again",
        "the lamp on Hurley St is burning in broad daylight again, 3 days running",
        "taking the rope line of preschoolers down Inman St, the crosswalk paint is gone",
        "all the mailboxes on Cambridge St got hit with silver tags overnight",
        "Nou pa gen kouran depi maten sou Otis St, pa gen fil ki tonbe, kilè l ap tounen?",
        "se fue la luz en Windsor St, no hay cables caidos, cuando vuelve?",
        "Pa gen fil ate sou Otis St, nou jis pa gen kouran depi maten",
        "the street light at the corner of Pine & Auburn has been out for several days",
        "the Rindge team is on fire this season, up by 30 at the half",
        "power out on Elm St since 6, nothing sparking, nothing down, any ETA",
        "oven fire in our unit on Ware St last night, the FD came, everyone's fine, just a smoky hallway now",
        "supe que hubo una fuga de gas en Medford ayer, ya la arreglaron",
        "Cambridge Fire put out a small grease fire on Pearl St tonight, everybody is fine",
        "Central Sq was flooded with fans after the game, what a night",
        "the sinkhole on Cardinal Medeiros got patched this morning, nice work",
        "big water main break in Medford on Main St this morning, glad it is not here",
        "Memorial Dr underwater again by the boathouse, nobody stuck, drains just cant keep up",
        "the fire next door is long out but the charred junk on the curb still reeks of smoke",
    ],
)
def test_hazard_words_in_a_harmless_sense_are_not_urgent_requests(text: str) -> None:
    result = triage_text(text)
    assert not (result.is_request and result.urgent), result.reasons
    assert result.hazards == []


def test_a_311_form_emergency_is_a_request_though_it_reads_like_news() -> None:
    text = (
        "Emergency condition: Fire | Specific location: 16 Edson Street Dorchester, MA | Details: BFD is "
        "reporting a one alarm fire. No displacements at this time."
    )
    result = triage_text(text)
    assert result.is_request and result.urgent and result.hazards == ["fire"]


@pytest.mark.parametrize(
    "text",
    [
        "URGENT: the streetlight at Hampshire and Prospect is out again",
        "black ice on Walden St, two cars already slid into each other, please salt",
    ],
)
def test_a_non_emergency_urgency_has_no_hazard_kind(text: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.urgent and result.hazards == []


@pytest.mark.parametrize(
    "text",
    [
        "URGENT: the trash was not picked up on Hampshire St again",
        "rats all over the dumpsters on Pearl St, a health emergency honestly",
    ],
)
def test_saying_urgent_does_not_make_a_routine_service_an_emergency(text: str) -> None:
    result = triage_text(text)
    assert result.is_request and not result.urgent, result.reasons


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("the street smells like sulfur by the school on Putnam Ave, getting worse", "gas"),
        ("the crew hit a gas line digging on Prospect St and it's roaring", "gas"),
        ("monoxide alarm beeping in the basement apartment, my mom feels sick", "carbon_monoxide"),
        ("utility pole knocked over by a truck on Webster Ave", "electric"),
        ("bare wires sticking out of the lamp post base at the playground", "electric"),
        ("the overhead wires on Elm St are buzzing and throwing blue flashes", "electric"),
        ("a boy is stuck in the storm drain on Sherman St", "trapped"),
        ("the retaining wall on Sparks St gave way onto the sidewalk", "collapse"),
        ("grate stolen from the storm drain on Pearl St, deep hole in the crosswalk", "open_manhole"),
        ("water gushing up out of the pavement on Broadway, it's a river", "water"),
        ("a big oak came down on a parked car on Brattle St", "tree"),
        ("a man collapsed at the bus stop in Central Sq and isn't breathing right", "injury"),
        ("cable snapped and is on the sidewalk on Inman St, crackling", "electric"),
        ("chunk of concrete fell off the overpass on Memorial Dr, almost hit a car", "collapse"),
        ("big hole opened in Harvard St and a cyclist fell in", "open_manhole"),
        ("someone is drowning in the Charles by the boathouse", "trapped"),
        ("kid locked in a hot car in the Star Market lot on Beacon St, windows up", "trapped"),
        ("a fire hydrant sheared off on Mass Ave is spraying water across all lanes", "water"),
        ("dryer vent smoking and the wall is hot at 24 Ellsworth Ave, we're outside", "fire"),
        ("thanks for letting that dead tree stand for 3 years, it just fell on my car. Lovely.", "tree"),
        ("alguém desmaiou no ponto de ônibus na Cambridge St e não acorda", "injury"),
        ("water is coming out of the ground on Elm St like a fountain, flooding everything", "water"),
        ("there's a huge crack in the facade on Main St and bricks are raining down", "collapse"),
        ("o teto do meu apartamento tá caindo aos pedaços com a infiltração, 20 Berkshire St", "collapse"),
        ("hay un cable de luz colgando muy bajo en la calle Inman, los niños lo pueden tocar", "electric"),
        ("the tree is cracking and could fall on the house any minute, 5 Oak St", "tree"),
        ("el techo del pasillo se cayó, hay escombros por todos lados", "collapse"),
        ("se rompió una tubería y el agua está saliendo por la calle Cambridge", "water"),
        ("tem uma pessoa caída na calçada na Inman St, não se mexe", "injury"),
        ("alam monoksid kabòn lan ap sonnen, tout moun gen tèt fè mal", "carbon_monoxide"),
        ("GAS!!!! windsor st", "gas"),
        ("my neighbors house is on fiyah", "fire"),
        ("guy hit by car, central sq, send help", "injury"),
        ("gás vazando na rua, Cambridge St, cheiro forte", "gas"),
        ("water main brk on huron", "water"),
        ("a car just crashed into the front of the pharmacy on Mass Ave, people were inside", "trapped"),
        ("chemical spill on Binney St, some truck leaked something and people are coughing", "gas"),
        ("there's a strong smell of propane coming from the food truck lot on Ames St", "gas"),
        ("the basement of our building is filling with water and the electric panel is down there", "water"),
        # Hurt now, shown rather than said; a CO reading from a device not called a detector.
        (
            "my neighbor slipped on the ice on Hurley St and is sitting on the curb holding her ankle",
            "injury",
        ),
        (
            "two people went down on the steps by the library in ten minutes, one still holding his head",
            "injury",
        ),
        ("the co monitor in the basement shows 120 and the baby is sleepy, 14 Fayette St", "carbon_monoxide"),
        ("Apre loraj la fil kouran yo kouche nan mitan lari a sou Pine St, pa pwoche", "electric"),
        ("fil la pandye sou twotwa a devan lekol la", "electric"),
        ("the stop sign on Elm St is down and a kid on a bike got hit", "injury"),
        ("manhole on Elm St with no lid, just a cone lying next to it", "open_manhole"),
        ("walking past Inman and Oak and it smelled like gas really strong, like right now", "gas"),
        ("en la lavanderia de Cambridge St huele a huevo podrido desde hace una hora", "gas"),
        (
            "the backhoe on Prospect St hit something and now theres a loud hiss, workers are backing away",
            "gas",
        ),
        ("contractor nicked a yellow line digging on Pearl St, its blowing", "gas"),
        ("power line drooping onto the fence on Elm St, sparks when the wind blows", "electric"),
        ("the transformer on the pole by 40 Magee St keeps making bright flashes", "electric"),
        ("water geyser shooting up at Western and River St, road is cracking", "water"),
        ("roofer fell off the ladder behind 12 Dana St, says he can't feel his legs", "injury"),
        ("man at the bus stop on Mass Ave turning blue and barely breathing, we think an overdose", "injury"),
        ("a kid fell into the Charles near the Weeks footbridge, clinging to the ice", "trapped"),
        ("the big linden on Ellery St just toppled across the street onto two cars", "tree"),
        ("somebody left a gas grill tank by the dumpster on Otis St and its hissing", "gas"),
        ("the gray can thing up on the pole on Hurley St went bang and now its smoking", "electric"),
        ("whole stretch of Otis St smells like someone left the stove on, worst by the curb", "gas"),
        ("a big branch just flattened a parked subaru on Hurlbut St, still cracking up there", "tree"),
        ("the gray metal cabinet at Pearl and Auburn has its door swinging open, buzzing inside", "electric"),
    ],
)
def test_dangers_in_other_words_are_urgent_with_their_kind(text: str, kind: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.urgent and result.hazards[:1] == [kind], result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "not a gas smell, more like sewage, from the drain on Cherry St",
        "no smoke, no fire, just the smoke alarm chirping for a battery",
        "gas leak on Prospect was repaired this morning, all clear",
        "there was a wire down on Oxford St on sunday, it's fixed now",
        "branches touching the power lines on Oxford St for months, please trim",
        "a sinkhole-ish dip on Putnam Ave has been getting worse all year",
        "a bunch of sneakers hanging on the power lines on Hampshire St lol",
        "trapped in this endless permit process for 6 months",
        "bbq smoke from the block party smells amazing",
        "the smoke from the fireworks last night was wild",
        "my basement floods every spring a little",
        "the gas works on Harvard St are taking forever",
        "gas leak drill at the high school tomorrow, don't be alarmed",
        "how do I know if my building has carbon monoxide detectors?",
        "the bridge on Western Ave has crumbling paint, could use a touch up",
        "who left a gas can on the sidewalk on Pearl St",
        "that fire on Norfolk St last month still has the building boarded up, when will it be fixed",
        "a dead tree on my block might fall on a car eventually, can you look at it",
        "wires hanging off the side of my building from an old cable install, not live, ugly",
        "hay un carro sin placas en Otis St que no se mueve hace un mes",
        "I need help finding my parking permit",
        "should I call 911 for a pothole?",
        "bus fumes smell awful on Mass Ave every morning",
    ],
)
def test_negated_past_and_old_hazards_are_not_urgent(text: str) -> None:
    result = triage_text(text)
    assert not (result.is_request and result.urgent), result.reasons


def test_kinds_follow_precedence_and_service_keeps_a_suitable_choice() -> None:
    assert hazard_kinds(urgent_reasons("smell gas and see smoke by the wires down")) == [
        "gas",
        "fire",
        "electric",
    ]
    codes = ["tree", "power_outage", "noise", "other"]
    assert hazard_service(["tree", "electric"], "power_outage", codes) == "power_outage"
    assert hazard_service(["carbon_monoxide"], "noise", codes) == "other"
    assert hazard_service([], "noise", codes) == "noise"
    assert hazard_service(["injury"], "noise", codes) == "noise"  # no service suits "injury" better


def test_a_hole_in_the_road_keeps_the_road_service_unless_a_cover_or_sewer_is_named() -> None:
    codes = ["pothole", "sidewalk", "water_sewer", "other"]
    # (the hazard patterns' own wording is tested elsewhere: only the service choice here)
    hole = "a deep hole opened up in the middle of elm st and a bike went in"
    assert hazard_service(["open_manhole"], "pothole", codes, hole) == "pothole"
    cover = "the manhole cover is off on elm st and a bike went in"
    assert hazard_service(["open_manhole"], "pothole", codes, cover) == "water_sewer"
    assert hazard_service(["open_manhole"], "pothole", codes) == "water_sewer"  # no text: as before
    # The model's own pick of the water department gives way when nothing names a cover or a sewer.
    trench = "the steel plate over the trench on elm st got knocked aside, a car wheel dropped in"
    assert hazard_service(["open_manhole"], "water_sewer", codes, trench) == "pothole"
    tree_pit = "the tree pit grate on mass ave is gone, a deep square hole in the sidewalk"
    assert hazard_service(["open_manhole"], "water_sewer", codes, tree_pit) == "sidewalk"


def test_a_tactile_plate_on_a_curb_ramp_is_no_open_manhole() -> None:
    result = triage_text("curb ramp at Elm and Pine is cracked, the yellow tactile plate is half gone")
    assert not result.urgent and result.hazards == [], result.reasons


def test_dev_split_of_the_emergency_set_recall_and_precision() -> None:
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    dev = [r for r in rows if r["split"] == "dev"]
    missed, false_alarms = [], []
    for row in dev:
        result = triage_text(row["text"])
        flagged = result.is_request and result.urgent
        if row["emergency"] and not (flagged and row["hazard"] in result.hazards):
            missed.append(row["id"])
        if not row["emergency"] and flagged:
            false_alarms.append(row["id"])
    # Recall must be 1.0; the urgency model may flag an alarming non-emergency now and then (one in 41 today:
    # concrete spilled in a basement), which a dispatcher reads at once and downgrades.
    non_emergencies = sum(not r["emergency"] for r in dev)
    assert missed == [] and len(false_alarms) <= 0.05 * non_emergencies, (missed, false_alarms)


# The hazard head names the danger of an urgent post the patterns read no kind in, so the reply's safety
# line comes first (texts written for this test; no hazard pattern knows their wording).
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("basement of 9 Oak St smells like a struck match and the pilot light went out", "gas"),
        ("the box on the pole outside 12 Pine St is buzzing and glowing blue", "electric"),
        (
            "the porch on the third floor at 7 Ash St just dropped a foot and is hanging off the house",
            "collapse",
        ),
    ],
)
def test_the_hazard_head_names_a_danger_the_patterns_miss(text: str, kind: str) -> None:
    result = triage_text(text)
    assert result.urgent, result.reasons
    assert result.hazards[:1] == [kind], result.reasons
    assert any(r.startswith(f"safety line: {kind} (hazard model p=") for r in result.reasons), result.reasons


def test_dark_signals_get_no_invented_safety_line() -> None:
    result = triage_text("traffic lights are out at Mass Ave and Prospect St, cars nearly crashing")
    assert result.urgent and result.hazards == [], result.reasons


# The labelling guide's ruling: a hydrant buried in snow is snow_ice; a hydrant's own faults stay water_sewer.
@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("fire hydrant at Elm and Pine completely covered by snow", "snow_ice"),
        ("the plow pile is burying the hydrant in front of 12 Oak St", "snow_ice"),
        ("el hidrante en Cambridge St está enterrado en la nieve", "snow_ice"),
        ("hydrant on Pine St buried under a snowbank, dig it out before there's a fire", "snow_ice"),
        ("hydrant leaking on Trowbridge St", "water_sewer"),
    ],
)
def test_a_hydrant_buried_in_snow_is_snow_and_ice(text: str, service: str) -> None:
    result = triage_text(text)
    assert (result.service_code, result.urgent) == (service, False), result.reasons


def test_a_danger_the_request_head_doubts_is_still_a_request_when_both_danger_heads_agree() -> None:
    # p_request 0.39 (under the mention threshold), no hazard pattern: the urgency head (>= 0.9) and the
    # hazard head (injury, >= 0.4) agree, so it is an urgent request with the injury safety line.
    result = triage_text(
        "omg the old guy on the bench by the Central Sq T went pale and isnt answering us, breathing funny"
    )
    assert float(result.reasons[0].split("p=")[1].rstrip(")")) < REQUEST_THRESHOLD["mention"], result.reasons
    assert result.is_request and result.urgent and result.hazards[:1] == ["injury"], result.reasons
    assert any(r.startswith("sounds like an emergency: urgency p=") for r in result.reasons), result.reasons
    # The hazard head is read once for both the rescue and the safety line: the same words in both reasons.
    rescue = next(r for r in result.reasons if r.startswith("sounds like an emergency"))
    line = next(r for r in result.reasons if r.startswith("safety line: injury"))
    assert rescue.split("words: ")[1].rstrip(")") == line.split("words: ")[1].rstrip(")")


def test_no_rescue_when_the_words_say_the_danger_is_over() -> None:
    result = triage_text(
        "the old man who went grey on the bench by the Central Sq T last week is fine now, the ambulance took him"
    )
    assert not result.is_request and not any("sounds like an emergency" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("text", "service"),
    [
        # Rats "entering the house" are no water entering homes: the water line needs water named first.
        ("rat yo plen lakou a sou Pearl St epi yo antre nan kay nou, tanpri", "rodents"),
        # Debris left at a lot is dumping, not a collapse.
        ("alguien dejó bolsas de escombros en el lote de Pearl St", "illegal_dumping"),
        # "down" and "line" in two sentences are no downed line.
        (
            "sewer backing up into the basement at 40 Pine St, it reeks down there. is that our line or yours?",
            "water_sewer",
        ),
    ],
)
def test_words_shared_with_a_hazard_need_its_context(text: str, service: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.service_code == service and not result.hazards, result.reasons


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tiyo dlo a pete sou Rindge Ave, dlo ap antre nan kay yo", "water"),
        ("se rompió un tubo en Harvard St y el agua está entrando a las casas", "water"),
        ("the walkway along the river on Memorial Dr just gave way, big drop and no railing", "collapse"),
        ("están cayendo escombros del edificio en Mass Ave", "collapse"),
    ],
)
def test_the_same_words_in_their_hazard_context_stay_urgent(text: str, kind: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.urgent and kind in result.hazards, result.reasons


@pytest.mark.parametrize(
    "text",
    [
        # Two other topics first, then the danger, with a deadline in weeks that is no duration.
        "Two things. The bench on Inman St is broken. And reply this time, not in three weeks: the traffic "
        "signals at Concord Ave and Fresh Pond Pkwy are totally dark right now, cars flying through",
        "somebody dumped a couch and two tires in the left lane of Alewife Brook Pkwy, cars are swerving "
        "into the oncoming lane to get around it",
        "sheets of ice sliding off the roof of 12 Ash St onto the sidewalk, it nearly hit a guy",
    ],
)
def test_a_danger_late_in_a_long_post_without_a_kind_is_urgent(text: str) -> None:
    result = triage_text(text)
    assert result.is_request and result.urgent and result.hazards == [], result.reasons


def test_dumped_gas_tanks_stay_dumping_with_the_gas_line() -> None:
    result = triage_text("somebody dumped four propane tanks in the alley off Otis St, one is hissing")
    assert result.urgent and result.hazards[:1] == ["gas"], result.reasons
    assert result.service_code == "illegal_dumping", result.reasons
