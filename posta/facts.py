"""Facts worth putting at the top of a case: order numbers, dates, amounts, and what the
business itself names in topics.yml (its products, say).

Plain patterns over the customer's words, so the agent does not have to dig for "pedido
4512" in the thread. Order numbers, dates and amounts look alike in every business; the
business's kinds map the customer's words to canonical values ("lentillas" -> contact_lenses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from posta import topics as topics_module
from posta.language import fold
from posta.topics import Topics

# The kinds every business has; the business names its own in topics.yml.
CORE_KINDS = ("order_number", "date", "amount")


@dataclass(frozen=True)
class Fact:
    kind: str  # order_number, date, amount, or one of the business's (e.g. product)
    value: str  # canonical: "4512", "15/11", "$45.000", "contact_lenses"
    text: str  # as the customer wrote it

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "text": self.text}


_ORDER = re.compile(
    r"(?:pedido|orden|order|compra|ticket|factura|invoice|nro\.?|numero|number|n°|#)\s*"
    r"(?:de compra\s*|nro\.?\s*|no\.?\s*|numero\s*|number\s*|#\s*)?([a-z]{0,3}-?\d{3,10})\b"
    r"|\b([a-z]{1,3}-\d{3,10})\b"
)
_DATE = re.compile(
    r"\b(\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?:el |este |next |last |on )?(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|ayer|anteayer|antes de ayer|yesterday|la semana pasada|last week|el mes pasado|last month"
    r"|hace \d+ (?:dias|semanas|meses)|\d+ (?:days|weeks|months) ago)\b"
)
_AMOUNT = re.compile(
    r"([$€£]\s?\d[\d.,]*|\b\d[\d.,]*\s?(?:€|£|(?:pesos|ars|usd|dolares|dollars|euros?|eur|libras|pounds)\b))"
)


@lru_cache(maxsize=8)
def _business_kinds(topics: Topics) -> Tuple[Tuple[str, str, "re.Pattern[str]"], ...]:
    """(kind, value, pattern) for the business's facts, in the order topics.yml lists them."""
    return tuple(
        (kind.key, value, re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in phrases) + r")\b"))
        for kind in topics.facts.values()
        for value, phrases in kind.values.items()
        if phrases
    )


def extract(text: str, topics: Optional[Topics] = None) -> List[Fact]:
    """Every fact in one message: order numbers, the business's kinds (a longer name listed
    first wins over a shorter one inside it), dates, amounts."""
    folded = fold(text or "")
    facts: List[Fact] = []
    for found in _ORDER.finditer(folded):
        value = (found.group(1) or found.group(2)).upper()
        facts.append(Fact("order_number", value, found.group(0).strip()))
    taken = []
    for kind, value, pattern in _business_kinds(topics or topics_module.current()):
        for found in pattern.finditer(folded):
            if not any(a <= found.start() < b for a, b in taken):
                taken.append(found.span())
                facts.append(Fact(kind, value, found.group(0)))
    for found in _DATE.finditer(folded):
        facts.append(Fact("date", found.group(0).strip(), found.group(0).strip()))
    for found in _AMOUNT.finditer(folded):
        facts.append(Fact("amount", found.group(0).replace(" ", ""), found.group(0)))
    return facts


def unique(facts: Iterable[Fact]) -> List[Fact]:
    """First mention of each (kind, value), in order."""
    seen = set()
    kept = []
    for fact in facts:
        if (fact.kind, fact.value) not in seen:
            seen.add((fact.kind, fact.value))
            kept.append(fact)
    return kept
