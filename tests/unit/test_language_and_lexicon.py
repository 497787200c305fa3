import pytest

from posta import facts, language, lexicon
from posta.names import clean_name


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hola, a que hora abren?", "es"),
        ("quiero hablar con una persona", "es"),
        ("tenés lentes de sol?", "es"),
        ("necesito turno", "es"),
        ("hi", "en"),
        ("what time do you open?", "en"),
        ("can I talk to a human please", "en"),
        ("my eyes hurt", "en"),
        ("ok", None),
        ("👍", None),
        ("4512", None),
        ("EXTERNAL: handback", None),  # Posta's own event, not the customer's words
    ],
)
def test_language_detection(text, expected):
    assert language.detect(text) == expected


@pytest.mark.parametrize(
    "text, category",
    [
        # Asking for a person, the ways every business shares (posta.lexicon)...
        ("quiero hablar con una persona", "requested"),
        ("me pasás con alguien?", "requested"),
        ("ponme con el encargado", "requested"),
        ("can I speak to a real person", "requested"),
        ("HUMANO", "requested"),
        # ...and the unit business's own (tests/unit/business/topics.yml).
        ("quiero hablar con el mecánico", "requested"),
        ("me caí de la bici bajando el cerro", "injury"),
        ("I crashed off the bike and hurt my wrist", "injury"),
        ("pésima atención, una vergüenza", "complaint"),
        ("quiero devolver el casco", "return"),
    ],
)
def test_the_safety_net_catches_what_needs_a_person(text, category):
    hit = lexicon.match(text)
    assert hit is not None and hit.category == category


def test_a_sensitive_case_outranks_a_request_for_a_person():
    assert lexicon.match("me caí de la bici, quiero hablar con una persona").category == "injury"
    assert lexicon.intent_for("injury") == "injury_report"
    assert lexicon.intent_for("requested") == "request_human"


@pytest.mark.parametrize(
    "text",
    [
        "cual es la politica de devolucion?",
        "sos un bot o una persona?",
        "are you a real person?",
        "cuanto salen los cascos?",
        "me arde el ojo",  # an optician's case: not this business's
    ],
)
def test_the_safety_net_leaves_other_questions_to_the_bot(text):
    assert lexicon.match(text) is None


def test_facts():
    found = {(f.kind, f.value) for f in facts.extract("Mi pedido #A-2231 de una bici eléctrica llegó el 15/11, $4.500")}
    assert ("order_number", "A-2231") in found
    assert ("product", "e_bikes") in found
    assert ("product", "bikes") not in found  # "bici" inside "bici eléctrica" is not a second product
    assert ("date", "15/11") in found and ("amount", "$4.500") in found


@pytest.mark.parametrize(
    "text, name",
    [
        ("Lucía", "Lucía"),
        ("me llamo lucia perez", "Lucia Perez"),
        ("soy Juan", "Juan"),
        ("my name is Mary Ann", "Mary Ann"),
        ("quiero hablar con una persona", None),
        ("a que hora abren mañana temprano?", None),
        ("", None),
    ],
)
def test_clean_name(text, name):
    assert clean_name(text) == name
