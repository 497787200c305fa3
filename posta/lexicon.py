"""A safety net under the intent classifier: phrases that always mean "a person must see this".

A classifier trained on a few hundred examples will sometimes call "me arde el ojo con
las lentillas" a catalogue question. The business's phrases (topics.yml, per topic and
language) catch the cases it cannot afford to miss; the core adds the ways of asking for a
person that every business shares. They are deliberately narrow — specific phrases, not
single topic words — because policy questions ("what's your return policy?") must stay
with the bot. They run on lower-cased text without accents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple

from posta import topics as topics_module
from posta.language import fold
from posta.states import Reason
from posta.topics import Topics


@dataclass(frozen=True)
class Hit:
    category: str  # a topic of the business, or "requested"
    phrase: str  # the words that matched, for the case summary and the logs


# Asking for a person, in any business (a business adds its own in topics.yml).
REQUEST_PATTERNS = [
    r"(hablar|comunicarme|contactarme|chatear|atenderme) con (una persona|alguien|un humano|una humana"
    r"|un asesor|una asesora|un agente|un operador|una operadora|el encargado|la encargada|el dueno|la duena"
    r"|atencion al cliente|un representante)",
    r"\b(pasame|me pasas|me pasan|me podes pasar|me puedes pasar|me pueden pasar|ponme|me pones"
    r"|derivame|me derivas|comunicame|me comunicas|me comunican) con\b",
    r"\b(quiero|necesito|prefiero|busco) (a )?(una persona|un humano|alguien real|un asesor|una asesora"
    r"|un operador|un agente)\b",
    r"\bque me (llame|llamen|atienda|atiendan|escriba|escriban) (alguien|una persona|un humano)",
    r"\b(llamenme|llamame|me pueden llamar|me podes llamar|me puedes llamar)\b",
    r"^\s*(humano|asesor|asesora|operador|operadora|persona|agente)\s*[!?.]*\s*$",
    r"\b(talk|speak|chat) (to|with) (a |an |some |your )?(real )?(human|person|someone|somebody"
    r"|agent|representative|rep|advisor|manager|staff|people)\b",
    r"\b(connect|transfer|put|pass) me (to|through|with)\b",
    r"\b(i want|i need|i'd like|id like|get me) (a |an )?(human|real person|person|agent|representative)\b",
    r"\b(call me|give me a call)\b",
    r"^\s*(human|agent|representative|operator|person)( please| pls| plz)?\s*[!?.]*\s*$",
]


class SafetyNet:
    """The business's phrases compiled: sensitive topics in their order, then requests."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.patterns: List[Tuple[str, "re.Pattern[str]"]] = [
            (topic.key, _whole_words(phrases))
            for topic in topics.topics.values()
            for phrases in topic.phrases.values()
            if phrases
        ]
        own = [p for phrases in topics.request_phrases.values() for p in phrases]
        if own:
            self.patterns.append((Reason.REQUESTED, _whole_words(own)))
        self.patterns += [(Reason.REQUESTED, re.compile(p)) for p in REQUEST_PATTERNS]
        self.match = lru_cache(maxsize=4096)(self._match)

    def intent_for(self, category: str) -> str:
        """The intent a hit stands for: the request intent, or the topic's first intent."""
        if category == Reason.REQUESTED:
            return self.topics.request_intent
        return self.topics.topics[category].intents[0]

    def _match(self, text: str) -> Optional[Hit]:
        folded = fold(text or "")
        for category, pattern in self.patterns:
            found = pattern.search(folded)
            if found:
                return Hit(category=str(category), phrase=found.group(0).strip())
        return None


def _whole_words(phrases) -> "re.Pattern[str]":
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in phrases) + r")\b")


def safety_net(topics: Optional[Topics] = None) -> SafetyNet:
    """The compiled phrases of `topics` (default: the business's), compiled once per file read."""
    return _compiled(topics or topics_module.current())


@lru_cache(maxsize=8)
def _compiled(topics: Topics) -> SafetyNet:
    return SafetyNet(topics)


def match(text: str, topics: Optional[Topics] = None) -> Optional[Hit]:
    """The first category whose phrases appear in `text`, in the business's order (a health
    worry before a complaint), and any sensitive case before a plain request for a person."""
    return safety_net(topics).match(text)


def intent_for(category: str, topics: Optional[Topics] = None) -> str:
    return safety_net(topics).intent_for(category)
