"""Word lists of the extractor: common and weak words, counts, times and dates (data/*.txt, read once)."""

from __future__ import annotations

from importlib.resources import files

# Only words of 4+ letters matter (shorter words are never corrected). Accents are folded ("sofá" -> "sofa").
# A word here can still name a street or place exactly; it is only never "corrected" into one.
_EN = """
sofa couch mattress mattresses furniture chair chairs table fridge tires tire bags boxes
house home building apartment door window stairs porch yard garage school church store shop park
some many much lots nothing something everything everyone nobody somebody anybody
loud smell smells gross dirty full empty dark cold week days hours since until
"""
_ES = """
sofa sofas colchon colchones mueble muebles silla sillas mesa nevera llanta llantas bolsa bolsas caja cajas
casa calle calles esquina acera banqueta cuadra barrio edificio puerta ventana escuela iglesia tienda parque
basura hoyo hoyos bache baches agua luces poste semaforo arbol ramas ruido fiesta ratas ratones perro perros
aqui alli alla ahora todo todos toda todas mucho mucha muchos muchas para pero porque como cuando donde
esta este estos estas estan esto tiene tienen hace hacen otra otro otros favor gracias noche noches tarde
manana semana semanas desde hasta entre sobre cerca frente enfrente lado grande grandes roto rota rotos
lleno llena sucio sucia peligro peligroso peligrosa nadie alguien siempre nunca todavia vecino vecinos
dejaron tiraron tirados tirado tirada nada mas hola ayuda carro carros coche coches
"""
_PT = """
sofa sofas colchao colchoes movel moveis cadeira cadeiras mesa geladeira pneu pneus saco sacos caixa caixas
casa rua ruas esquina calcada quarteirao bairro predio porta janela escola igreja loja parque
lixo buraco buracos agua luzes poste semaforo arvore galhos barulho festa ratos cachorro cachorros
aqui agora tudo todo todos toda todas muito muita muitos muitas para porque quando onde esta este isso isto
estao fazer semana semanas noite noites hoje ontem amanha desde perto frente lado grande grandes quebrado
quebrada cheio cheia sujo suja perigo perigoso perigosa ninguem alguem sempre nunca ainda vizinho vizinhos
deixaram jogaram jogado jogada nada mais ajuda carro carros obrigado obrigada consegue dormir pessoas gente
minha meu nossa nosso altissimo manha
"""
_HT = """
sofa matla matlas mebl chez tab frijide kawotchou sak bwat kay lari kwen twotwa katye bilding pot fenet lekol
legliz magazen pak fatra twou limye poto pyebwa branch bri fet rat chen machin moun
isit kounya kounye anpil pou paske kote genyen semenn jodi demen lannwit maten aswe devan bagay
plen sale danje danjere pesonn toujou janm tout vini jete tonbe kase mesi tanpri vwazen vwazin
"""
COMMON_WORDS = frozenset(w for block in (_EN, _ES, _PT, _HT) for w in block.split() if len(w) >= 4)


def _read_word_sections(name: str) -> dict[str, frozenset[str]]:
    """Sections ("[unit]") of a word-list data file shipped with the geo package."""
    sections: dict[str, set[str]] = {}
    current = sections.setdefault("", set())
    text = files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line:
            current.update(line.lower().split())
    return {k: frozenset(v) for k, v in sections.items()}


_QUANTITY = _read_word_sections("quantity_words.txt")
# "3rd day", "6 hours", "5 am": a number before one of these counts something; it is no house number.
QUANTITY_UNITS = _QUANTITY["unit"]
COUNT_WORDS = _QUANTITY["count"]  # number words that count like digits ("two weeks")
MONTH_WORDS = _QUANTITY["month"]  # "March 3rd" is a date, not Third St
# Street names that are ordinary words: without a type they count only inside a clear pattern. A city pack
# adds its own words (geo.weak_names), kept on its gazetteer.
WEAK_NAMES = _read_word_sections("weak_names.txt")[""]
# Words never "corrected" into a street or place name by fuzzy matching.
FUZZY_STOPWORDS = _read_word_sections("fuzzy_stopwords.txt")[""] | COMMON_WORDS
