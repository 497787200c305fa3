"""Facts worth putting at the top of a case: order numbers, products, dates, amounts.

Plain patterns over the customer's words, so the agent does not have to dig for "pedido
4512" in the thread. Products map to the catalogue's four families.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List

from posta.language import fold


@dataclass(frozen=True)
class Fact:
    kind: str  # order_number, product, date, amount
    value: str  # canonical: "4512", "contact_lenses", "15/11", "$45.000"
    text: str  # as the customer wrote it

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "text": self.text}


PRODUCTS = {
    "contact_lenses": r"lentes de contacto|lentillas|lentes blandas|contact lens(es)?|contacts",
    "sunglasses": r"(anteojos|lentes|gafas) de sol|sunglasses|shades",
    "frames": r"armazon(es)?|marcos?|monturas?|frames?",
    "lenses": r"multifocal(es)?|bifocal(es)?|monofocal(es)?|progresiv[oa]s|antirreflex|antirreflejo"
    r"|cristal(es)?|lentes|lenses|anteojos|gafas|glasses",
}
_PRODUCT = [(name, re.compile(rf"\b({pattern})\b")) for name, pattern in PRODUCTS.items()]

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
_AMOUNT = re.compile(r"(\$\s?\d[\d.,]*|\b\d[\d.,]* ?(?:pesos|ars|usd|dolares|dollars)\b)")


def extract(text: str) -> List[Fact]:
    """Every fact in one message, in the order the kinds are listed above."""
    folded = fold(text or "")
    facts: List[Fact] = []
    for found in _ORDER.finditer(folded):
        value = (found.group(1) or found.group(2)).upper()
        facts.append(Fact("order_number", value, found.group(0).strip()))
    taken = []
    for name, pattern in _PRODUCT:
        for found in pattern.finditer(folded):
            if not any(a <= found.start() < b for a, b in taken):
                taken.append(found.span())
                facts.append(Fact("product", name, found.group(0)))
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
