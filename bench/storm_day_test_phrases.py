"""The held-out storm day's phrasings (`make_storm_day.py --variant test`): other words, never tuned on.

Written for this file in a different hand from make_storm_day.py's tables: an ice storm and a cold snap
rather than a snowfall, other questions and other ways of being angry or grateful, in the same four
languages. The routing was tuned on the dev day (the default variant) only; this day is run to report.
Placeholders as there: {s} a street, {c} a corner, {a} a house address, {n} four digits.
"""

from __future__ import annotations

REQUESTS = {
    "en": [
        "@CambridgeMA freezing rain turned {s} into a skating rink, two people fell already",
        "transformer blew near {c} and the lights went out on the whole street",
        "a big limb snapped off and is lying across {s}, cars can't get by",
        "the catch basin at {c} is frozen over and there's a lake forming",
        "sidewalk on {s} was never treated, it's pure ice in front of the library",
        "traffic light at {c} is dark, cars are just guessing",
        "the plow knocked over a stop sign at {c}",
        "icicles the size of spears hanging off the bridge on {s} over the sidewalk",
        "water gushing from under the pavement on {s}, it's freezing as it spreads",
    ],
    "es": [
        "@CambridgeMA con la lluvia helada la {s} es un peligro, ya se cayeron dos personas",
        "explotó un transformador cerca de {c} y toda la calle quedó a oscuras",
        "una rama enorme está atravesada en la {s}, no pasan los carros",
        "el semáforo de {c} no funciona, los carros pasan como pueden",
        "sale agua de debajo del asfalto en {s} y se está congelando",
    ],
    "pt": [
        "@CambridgeMA a chuva congelada deixou a {s} um rinque de patinação, já caíram duas pessoas",
        "explodiu um transformador perto da {c} e a rua toda ficou no escuro",
        "um galho enorme está atravessado na {s}, os carros não passam",
        "o semáforo da {c} está apagado, os carros passam no chute",
    ],
    "ht": [
        "@CambridgeMA lapli glase a fè {s} tounen yon glisad, de moun gentan tonbe",
        "yon transfòmatè eksploze bò {c} e tout lari a nan fènwa",
        "yon gwo branch kase e li kouche an travè {s}, machin pa ka pase",
        "limyè trafik la nan {c} etenn, machin yo ap pase jan yo kapab",
    ],
}
DM_REQUESTS = {
    "en": [
        "my elderly neighbor at {a} hasn't been able to get out, her steps are buried. my number is 617-555-{n}",
        "the pipe in front of {a} burst and water is freezing across the sidewalk",
        "no heat and no lights at {a} since this afternoon, we have an infant",
    ],
    "es": [
        "mi vecina mayor en {a} no puede salir, la escalera está tapada de hielo. 617-555-{n}",
        "se reventó un tubo frente a {a} y el agua se está congelando en la acera",
    ],
    "pt": [
        "minha vizinha idosa na {a} não consegue sair, a escada está coberta de gelo. 617-555-{n}",
        "estourou um cano na frente da {a} e a água está congelando na calçada",
    ],
    "ht": [
        "vwazin mwen ki granmoun nan {a} pa ka soti, mach eskalye a kouvri ak glas. 617-555-{n}",
        "yon tiyo pete devan {a} e dlo a ap glase sou twotwa a",
    ],
}
QUESTIONS = {
    "en": [
        "@CambridgeMA are the libraries open as warming spots during the cold snap?",
        "what's the rule for shoveling my own sidewalk, how many hours do I have after it stops?",
        "will recycling still be picked up this week or should I keep it inside?",
        "who do I contact if my landlord won't turn the heat back on?",
        "is the T running normally or should I plan to walk?",
        "how do I request a sand barrel for our corner?",
        "when does the overnight parking ban end?",
        "do I need a permit to hire someone to clear the snow off my roof?",
    ],
    "es": [
        "@CambridgeMA ¿las bibliotecas están abiertas para calentarse durante el frío?",
        "¿cuántas horas tengo para palear mi acera después de que pare de nevar?",
        "¿van a recoger el reciclaje esta semana?",
        "¿a quién llamo si el dueño no prende la calefacción?",
    ],
    "pt": [
        "@CambridgeMA as bibliotecas estão abertas para as pessoas se aquecerem?",
        "quantas horas eu tenho para limpar a minha calçada depois que parar de nevar?",
        "vão recolher a reciclagem esta semana?",
        "com quem eu falo se o proprietário não liga o aquecimento?",
    ],
    "ht": [
        "@CambridgeMA èske bibliyotèk yo louvri pou moun vin chofe kò yo?",
        "konbyen èdtan mwen genyen pou m netwaye twotwa m apre nèj la fin tonbe?",
        "èske y ap ranmase resiklaj la semèn sa a?",
        "ki moun pou m rele si mèt kay la pa limen chofaj la?",
    ],
}
COMPLAINTS = {
    "en": [
        "@CambridgeMA I have never seen a city this unprepared, absolutely embarrassing",
        "three days stuck inside because nobody treats the sidewalks. thanks for nothing",
        "the councillors have clear driveways while the rest of us are trapped. shameful",
        "your hotline put me on hold for an hour and then hung up on me",
        "every single storm it's the same excuses. I'm done with this city",
        "ridiculous. we got ticketed and towed and the street is still a mess",
    ],
    "es": [
        "@CambridgeMA nunca había visto una ciudad tan mal preparada, da vergüenza",
        "tres días encerrados porque nadie limpia las aceras, gracias por nada",
        "cada tormenta son las mismas excusas, estoy harta de esta ciudad",
    ],
    "pt": [
        "@CambridgeMA nunca vi uma cidade tão despreparada, é uma vergonha",
        "três dias presos em casa porque ninguém limpa as calçadas, obrigado por nada",
        "toda tempestade são as mesmas desculpas, cansei dessa cidade",
    ],
    "ht": [
        "@CambridgeMA mwen pa janm wè yon vil ki pa prepare konsa, se yon wont",
        "twa jou nou bloke lakay paske pèsonn pa netwaye twotwa yo, mèsi pou anyen",
        "chak tanpèt se menm eskiz yo, mwen bouke ak vil sa a",
    ],
}
PRAISE = {
    "en": [
        "@CambridgeMA the sanders came through at 5am, you folks are heroes",
        "really appreciate the crew that fixed our streetlight in the freezing cold",
        "kudos to whoever organized the warming center, it saved my dad",
    ],
    "es": [
        "@CambridgeMA gracias a los que echaron arena a las 5 de la mañana, son unos héroes",
        "mil gracias al equipo que arregló la luz con este frío",
    ],
    "pt": [
        "@CambridgeMA valeu à equipe que jogou areia às 5 da manhã, vocês são heróis",
        "agradeço muito a equipe que consertou o poste nesse frio",
    ],
    "ht": [
        "@CambridgeMA mèsi a ekip ki te simen sab la a 5è di maten, nou se ewo",
        "gwo mèsi pou ekip ki ranje limyè a nan fredi sa a",
    ],
}
FOLLOWUPS = {
    "en": [
        "nobody has come yet, it's been since yesterday",
        "it's even worse now, another car slid into it",
        "hello? is anyone reading these?",
        "checking in again, still waiting",
    ],
    "es": ["todavía nadie ha venido desde ayer", "¿hola? ¿alguien lee esto?"],
    "pt": ["ninguém veio ainda, desde ontem", "alô? alguém lê isso?"],
    "ht": ["pèsonn poko vini depi yè", "alo? èske gen moun k ap li sa yo?"],
}
CHATTER = {
    "en": [
        "the trees look like glass this morning, unreal",
        "hot chocolate and a good book, perfect ice storm day",
    ],
    "es": ["los árboles parecen de cristal esta mañana", "chocolate caliente y una película, día perfecto"],
    "pt": ["as árvores parecem de vidro hoje de manhã", "chocolate quente e um filme, dia perfeito"],
    "ht": ["pyebwa yo sanble vè maten an", "chokola cho ak yon bon fim, jou pafè"],
}
SPAM = [
    "crypto giveaway for storm victims!!! send 1 eth get 2 back bit.ly/ice-free",
    "cheap snow tires 70% off today only www.tires-deal.example",
    "SIGA-NOS e ganhe um iPhone, promoção relâmpago bit.ly/gelo",
]
