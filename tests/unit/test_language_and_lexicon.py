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
    ],
)
def test_language_detection(text, expected):
    assert language.detect(text) == expected


@pytest.mark.parametrize(
    "text, category",
    [
        ("me pasás con alguien del local?", "requested"),
        ("quiero hablar con una persona", "requested"),
        ("can I speak to a real person", "requested"),
        ("HUMANO", "requested"),
        ("me arde el ojo desde ayer", "health"),
        ("veo borroso con los anteojos nuevos", "health"),
        ("my eyes are red and itchy", "health"),
        ("quiero devolver los lentes que compré", "return"),
        ("i want a refund", "return"),
        ("se me rompió el armazón a la semana", "return"),
        ("me cobraron dos veces la compra", "billing"),
        ("you charged me twice", "billing"),
        ("los voy a denunciar en defensa del consumidor", "legal"),
        ("my lawyer will contact you", "legal"),
        ("pésima atención, una vergüenza", "complaint"),
    ],
)
def test_lexicon_catches_what_needs_a_person(text, category):
    hit = lexicon.match(text)
    assert hit is not None and hit.category == category


@pytest.mark.parametrize(
    "text",
    [
        "cual es la politica de devolucion?",
        "what's your return policy?",
        "si no me gustan los puedo cambiar?",
        "does the warranty cover scratches?",
        "sos un bot o una persona?",
        "are you a real person?",
        "cuanto salen los lentes de contacto?",
        "how do I book an eye exam?",
    ],
)
def test_lexicon_leaves_faq_questions_to_the_bot(text):
    assert lexicon.match(text) is None


def test_facts():
    found = {(f.kind, f.value) for f in facts.extract("Mi pedido #A-2231 de lentes de contacto llegó el 15/11")}
    assert ("order_number", "A-2231") in found
    assert ("product", "contact_lenses") in found
    assert ("product", "lenses") not in found  # "lentes" inside "lentes de contacto" is not a second product
    assert ("date", "15/11") in found


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
