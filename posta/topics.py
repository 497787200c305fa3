"""What the conversation is about: the business's `topics.yml`, read into plain sets.

The single place where the core meets the conversation designer's intent names. Which
intents are about which topic, which topics a person must handle (sensitive), which are
urgent, which the bot cannot answer alone, the safety-net phrases, the facts worth listing
for the agent and every topic's label: all of it is the business's data. The core only
knows the intents it produces itself (`out_of_scope`, `nlu_fallback`, `media`) and the two
topics every business has (`general`, `media`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

from posta.config import LANGUAGES, ConfigError, business_dir, read

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"  # the intent name Rasa uses for a low-confidence message
MEDIA = "media"  # what the WhatsApp channel sends for what the bot cannot read
CORE_UNSURE_INTENTS = frozenset({OUT_OF_SCOPE, FALLBACK, MEDIA})
GENERAL = "general"
CORE_LABELS = {
    GENERAL: {"es": "consulta general", "en": "general question"},
    MEDIA: {"es": "adjunto que el bot no puede leer", "en": "attachment the bot cannot read"},
}
FILE = "topics.yml"

Phrases = Mapping[str, Tuple[str, ...]]  # language -> regular expressions on folded text


@dataclass(frozen=True)
class Topic:
    key: str
    intents: Tuple[str, ...] = ()
    sensitive: bool = False  # a person must handle it, whatever the bot knows
    urgent: bool = False  # flagged urgent in the agent's summary
    hand_off: bool = False  # the bot cannot answer it alone (reason: unsure)
    labels: Mapping[str, str] = field(default_factory=dict)
    phrases: Phrases = field(default_factory=dict)


@dataclass(frozen=True)
class FactKind:
    key: str  # e.g. product
    labels: Mapping[str, str]
    values: Mapping[str, Tuple[str, ...]]  # canonical value -> phrases naming it


@dataclass(frozen=True, eq=False)  # hashed by identity: cached per loaded file
class Topics:
    topics: Mapping[str, Topic]  # in order of precedence for the safety net
    small_talk: FrozenSet[str]
    request_intent: str
    request_phrases: Phrases
    facts: Mapping[str, FactKind] = field(default_factory=dict)

    @cached_property
    def intent_topics(self) -> Dict[str, str]:
        topics = {MEDIA: MEDIA}
        topics.update({intent: t.key for t in self.topics.values() for intent in t.intents})
        return topics

    @cached_property
    def sensitive_topics(self) -> FrozenSet[str]:
        return frozenset(t.key for t in self.topics.values() if t.sensitive)

    @cached_property
    def urgent_topics(self) -> FrozenSet[str]:
        return frozenset(t.key for t in self.topics.values() if t.urgent)

    @cached_property
    def sensitive_intents(self) -> FrozenSet[str]:
        return frozenset(i for i, t in self.intent_topics.items() if t in self.sensitive_topics)

    @cached_property
    def request_intents(self) -> FrozenSet[str]:
        return frozenset({self.request_intent})

    @cached_property
    def unsure_intents(self) -> FrozenSet[str]:
        """Intents the bot hands off because it cannot answer them alone."""
        hand_off = {i for t in self.topics.values() if t.hand_off for i in t.intents}
        return frozenset(CORE_UNSURE_INTENTS | hand_off)

    @cached_property
    def handoff_intents(self) -> FrozenSet[str]:
        """Every intent whose rule must end in a handoff."""
        return self.request_intents | self.sensitive_intents | self.unsure_intents

    def need(self, intent: str) -> str:
        """What a message of this intent needs: 'answer', or the handoff reason."""
        if intent in self.request_intents:
            return "requested"
        if intent in self.sensitive_intents:
            return "sensitive"
        return "unsure" if intent in self.handoff_intents else "answer"

    def topic_of(self, intent: Optional[str]) -> Optional[str]:
        return self.intent_topics.get(intent or "")

    def label(self, topic: str, lang: str) -> str:
        """The topic's name for a summary or a report in `lang` (English, else the key)."""
        labels = self.topics[topic].labels if topic in self.topics else CORE_LABELS.get(topic, {})
        return labels.get(lang) or labels.get("en") or topic

    def fact_label(self, kind: str, lang: str) -> Optional[str]:
        labels = self.facts[kind].labels if kind in self.facts else {}
        return labels.get(lang) or labels.get("en")


def load(path: Optional[Path] = None) -> Topics:
    """Reads the designer's file (default: topics.yml in the business's directory)."""
    return read(Path(path or business_dir() / FILE), "topics file", parse)


@lru_cache(maxsize=None)
def current() -> Topics:
    """The process-wide topics, read on first use."""
    return load()


def parse(raw: dict) -> Topics:
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping with topics:, small_talk: and request_human:")
    request = raw.get("request_human") or {}
    topics = {}
    for key, entry in (raw.get("topics") or {}).items():
        entry = entry or {}
        topics[str(key)] = Topic(
            key=str(key),
            intents=tuple(_names(entry.get("intents"), f"topics.{key}.intents")),
            sensitive=bool(entry.get("sensitive", False)),
            urgent=bool(entry.get("urgent", False)),
            hand_off=bool(entry.get("hand_off", False)),
            labels=_labels(entry.get("label"), f"topics.{key}.label"),
            phrases=_phrases(entry.get("phrases"), f"topics.{key}.phrases"),
        )
    facts = {
        str(kind): FactKind(
            key=str(kind),
            labels=_labels((entry or {}).get("label"), f"facts.{kind}.label"),
            values={
                str(value): tuple(_names(words, f"facts.{kind}.values.{value}"))
                for value, words in ((entry or {}).get("values") or {}).items()
            },
        )
        for kind, entry in (raw.get("facts") or {}).items()
    }
    return Topics(
        topics=topics,
        small_talk=frozenset(_names(raw.get("small_talk"), "small_talk")),
        request_intent=str(request.get("intent") or "request_human"),
        request_phrases=_phrases(request.get("phrases"), "request_human.phrases"),
        facts=facts,
    )


def _names(value, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ConfigError(f"{where}: expected a list of words, e.g. [{where.split('.')[-1]}_a, ...]")
    return tuple(str(v) for v in value)


def _labels(value, where: str) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not set(value) <= set(LANGUAGES):
        raise ConfigError(f"{where}: expected a label per language, e.g. {{es: ..., en: ...}}")
    return {lang: str(text) for lang, text in value.items()}


def _phrases(value, where: str) -> Phrases:
    if value is None:
        return {}
    if not isinstance(value, dict) or not set(value) <= set(LANGUAGES):
        raise ConfigError(f"{where}: expected phrases per language, e.g. {{es: [...], en: [...]}}")
    return {lang: tuple(_names(items, f"{where}.{lang}")) for lang, items in value.items()}
