"""Which language a customer writes in: Spanish or English, or None when a message can't tell.

spaCy's stop-word lists (MIT) do most of the work: function words are what short chat
messages are made of. Words in both lists ("a", "no", "me") count for neither. A few
chat words that are not stop words ("hola", "thanks") and Spanish-only characters help
with one-word messages. Returning None for "ok" or "👍" lets the caller keep the language
it already knew.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
SPANISH_CHARS = set("ñ¿¡áéíóú")

SPANISH_CHAT = {
    "hola",
    "buenas",
    "buen",
    "dia",
    "tardes",
    "noches",
    "gracias",
    "chau",
    "chao",
    "adios",
    "quiero",
    "queria",
    "necesito",
    "tenes",
    "podes",
    "queres",
    "sabes",
    "tienen",
    "hacen",
    "cuanto",
    "cuanta",
    "salen",
    "precio",
    "precios",
    "anteojos",
    "lentes",
    "gafas",
    "armazon",
    "turno",
    "envio",
    "envios",
    "cuotas",
    "tarjeta",
    "persona",
    "alguien",
    "dale",
    "si",
    "vale",
    "porfa",
    "xfa",
    "pq",
    "xq",
    "tmb",
    "bueno",
    "perfecto",
    "genial",
    "hablar",
    "devolver",
    "cambiar",
    "duele",
    "ojo",
    "ojos",
    "receta",
    "pedido",
    "donde",
    "horario",
    "abren",
    "cierran",
    "estan",
    "queja",
    "reclamo",
    "ayuda",
    "abogado",
}
ENGLISH_CHAT = {
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "thx",
    "bye",
    "please",
    "pls",
    "plz",
    "yes",
    "yeah",
    "yep",
    "nope",
    "want",
    "need",
    "price",
    "prices",
    "glasses",
    "lenses",
    "frames",
    "shipping",
    "delivery",
    "appointment",
    "human",
    "person",
    "someone",
    "talk",
    "speak",
    "open",
    "hours",
    "refund",
    "return",
    "eye",
    "eyes",
    "hurt",
    "order",
    "where",
    "store",
    "cost",
    "lol",
    "cool",
    "great",
    "sure",
    "help",
    "u",
    "ur",
    "im",
    "dont",
    "cant",
    "whats",
    "lawyer",
    "complaint",
    "charged",
}


def fold(word: str) -> str:
    """Lower case without accents: chat users rarely type them."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _spacy_stop_words(lang: str) -> FrozenSet[str]:
    """spaCy's list for `lang`, read from its module file: importing the `spacy` package
    itself would pull in thinc and TensorFlow for the sake of two word lists."""
    spec = importlib.util.find_spec("spacy")
    path = Path(spec.origin).parent / "lang" / lang / "stop_words.py"
    module_spec = importlib.util.spec_from_file_location(f"_posta_stop_words_{lang}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


@lru_cache(maxsize=1)
def function_words() -> FrozenSet[str]:
    """Spanish and English stop words, folded ("que", "the", "mañana" -> "manana")."""
    return frozenset(fold(w) for lang in ("es", "en") for w in _spacy_stop_words(lang))


@lru_cache(maxsize=1)
def _lexicons() -> Tuple[FrozenSet[str], FrozenSet[str]]:
    spanish = {fold(w) for w in _spacy_stop_words("es")} | SPANISH_CHAT
    english = {fold(w) for w in _spacy_stop_words("en")} | ENGLISH_CHAT
    shared = spanish & english
    return frozenset(spanish - shared), frozenset(english - shared)


def detect(text: str) -> Optional[str]:
    """'es', 'en', or None when the message gives no clear sign (or is a button payload
    like '/ask_catalogue{"product": "contact_lenses"}', which says nothing of the customer)."""
    if not text or text.startswith("/"):
        return None
    spanish, english = _lexicons()
    words = [fold(w) for w in WORD.findall(text)]
    es_score = sum(w in spanish for w in words)
    en_score = sum(w in english for w in words)
    if SPANISH_CHARS & set(text.casefold()):
        es_score += 2
    if es_score == en_score:
        return None
    return "es" if es_score > en_score else "en"
