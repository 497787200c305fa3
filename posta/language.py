"""Which language a customer writes in: Spanish or English, or None when a message can't tell.

A general method, with no business's word list: every word votes by how much more often it
appears in Spanish than in English text, from spaCy's word-frequency tables (spacy-lookups-
data, MIT; `make install` reduces them to `models/language-es-en.json.gz`, see `build`).
Words both languages share as function words ("a", "no", "me") and chat words used in both
("ok") vote for neither; Spanish-only characters count for Spanish. Returning None for "ok"
or "👍" lets the caller keep the language it already knew.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Optional

from posta.rasa_events import EXTERNAL_PREFIX

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
SPANISH_CHARS = set("ñ¿¡áéíóú")
TABLE = Path(__file__).resolve().parent.parent / "models" / "language-es-en.json.gz"
BOTH = frozenset({"ok", "okay", "okey", "oki", "bye", "jeje"})  # chat words Spanish speakers use as much
WORDS_PER_LANGUAGE = 60_000  # the most frequent of each language: 150,000 measured no better
MOST = 3.0  # no single word outvotes a whole sentence (log-probability difference, clipped)
LEAST = 0.5  # words about as frequent in both vote for neither
UNSEEN = -21.0  # the log-probability of a word a table does not have


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
def votes() -> Dict[str, float]:
    """word -> its vote: positive for Spanish, negative for English."""
    try:
        with gzip.open(TABLE, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise RuntimeError(f"{TABLE} is missing: `make install` builds it (python -m posta.language)") from None


def detect(text: str) -> Optional[str]:
    """'es', 'en', or None when the message gives no clear sign (or is a button payload
    like '/ask_catalogue{"product": "contact_lenses"}' or an event Posta triggered itself,
    'EXTERNAL: handback', which say nothing of the customer)."""
    if not text or text.startswith(("/", EXTERNAL_PREFIX)):
        return None
    table = votes()
    score = sum(table.get(fold(w), 0.0) for w in WORD.findall(text))
    if SPANISH_CHARS & set(text.casefold()):
        score += 2
    if score == 0:
        return None
    return "es" if score > 0 else "en"


def build(target: Path = TABLE) -> int:
    """Reduces spaCy's frequency tables to the votes of the most frequent words (run once by
    `make install`; the full tables would cost every process half a gigabyte)."""
    data = Path(importlib.util.find_spec("spacy_lookups_data").origin).parent / "data"
    frequency = {}
    for lang in ("es", "en"):
        with gzip.open(data / f"{lang}_lexeme_prob.json.gz", "rt", encoding="utf-8") as handle:
            table: Dict[str, float] = {}
            for word, logprob in json.load(handle).items():
                if word.isalpha():
                    folded = fold(word)
                    table[folded] = max(logprob, table.get(folded, UNSEEN))
        frequency[lang] = dict(sorted(table.items(), key=lambda item: -item[1])[:WORDS_PER_LANGUAGE])
    es_stop, en_stop = ({fold(w) for w in _spacy_stop_words(lang)} for lang in ("es", "en"))
    neutral = (es_stop & en_stop) | BOTH
    result = {}
    for word in sorted(set(frequency["es"]) | set(frequency["en"])):
        vote = frequency["es"].get(word, UNSEEN) - frequency["en"].get(word, UNSEEN)
        vote = max(-MOST, min(MOST, vote))
        if word not in neutral and abs(vote) >= LEAST:
            result[word] = round(vote, 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(target, "wt", encoding="utf-8") as handle:
        json.dump(result, handle, separators=(",", ":"))
    return len(result)


if __name__ == "__main__":
    print(f"{TABLE}: {build(Path(sys.argv[1]) if len(sys.argv) > 1 else TABLE)} words")
