"""A customer's name from what they typed when asked for it."""

from __future__ import annotations

import re
from typing import Optional

from posta import lexicon
from posta.language import fold, function_words

_INTRO = re.compile(
    r"^\s*(hola[,!.]*\s*)?(me llamo|mi nombre es|soy|habla|my name is|my name's|i am|i'm|im|it's|its|this is)\s+",
    re.IGNORECASE,
)
MAX_WORDS = 4
NAME_PARTICLES = {"de", "del", "la", "las", "los", "da", "di", "van", "von", "y"}


def clean_name(text: str) -> Optional[str]:
    """'me llamo lucía pérez' -> 'Lucía Pérez'; None when it does not look like a name."""
    name = _INTRO.sub("", text or "").strip(" .,!¡¿?\n\t")
    words = name.split()
    if not words or len(words) > MAX_WORDS or lexicon.match(name) or any(ch.isdigit() for ch in name):
        return None
    if any(fold(w) in function_words() - NAME_PARTICLES for w in words):
        return None  # "a que hora abren?" is a question, not a name
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in words)
