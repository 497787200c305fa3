"""`make validate`, beside `rasa data validate`: checks that the business and the conversation
design agree, and says for each problem the file, the entry and what to write.

- topics.yml loads, its phrases are valid patterns, every topic has a label in Spanish and
  English, and every intent it names is in domain.yml;
- every intent of domain.yml has a topic, is small talk, or is one the bot hands off or the
  team sends; the intents the core sends itself (media, handback, out_of_scope) are there;
- every topic a case can have is listed by a team in business.yml (else it silently goes
  to `default_team`), and every topic a team lists exists;
- every intent a person must handle (sensitive, requested, handed off) opens a rule that
  ends in `action_handoff`;
- every response has an English variation (`condition: language = en`), and every
  utter_safety_<topic> names a topic;
- business.yml itself loads: hours, holidays, phones, teams, templates.

Reads YAML only: no Rasa, no model."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

from posta import config as business_config
from posta import rasa_data
from posta import topics as topics_module
from posta.config import LANGUAGES, ConfigError
from posta.rasa_events import HANDOFF_ACTION as HANDOFF
from posta.topics import Topics

SENT_BY_THE_CORE = frozenset({"handback", topics_module.MEDIA, topics_module.OUT_OF_SCOPE})
SAFETY = "utter_safety_"
# The responses the core sends itself, with the placeholders it fills in.
CORE_RESPONSES = {
    "utter_hours": "{hours}",
    "utter_open_now": "",
    "utter_closed_now": "{next_opening}",
    "utter_handoff": "",
    "utter_handoff_named": "{agent_name}",
    "utter_handoff_queued": "{queue}",
    "utter_handoff_after_hours": "{name_suffix}, {next_opening}",
    "utter_after_hours_details": "{next_opening}",
    "utter_ask_customer_name": "",
    "utter_ask_customer_request": "",
    "utter_agent_intro": "{agent_name}",
    "utter_handback": "",
}


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.fix}"


def check(root: Path = None) -> List[Problem]:
    """Every problem of the business in `root` (default: the one this process serves)."""
    root = Path(root or business_config.business_dir())
    domain = rasa_data.read(root / "domain.yml")
    try:
        topics = topics_module.load(root / topics_module.FILE)
    except ConfigError as error:
        return [Problem(topics_module.FILE, "the file", str(error))]
    problems = list(_topics(topics, domain)) + list(_intents(topics, domain)) + list(_responses(domain, topics))
    problems += list(_rules(root, topics, domain))
    try:
        loaded = business_config.load(root / "business.yml")
    except ConfigError as error:
        return problems + [Problem("business.yml", "the file", str(error))]
    return problems + list(_teams(topics, loaded))


def _topics(topics: Topics, domain: Dict[str, Any]) -> Iterator[Problem]:
    intents = set(rasa_data.names(domain.get("intents")))
    for topic in topics.topics.values():
        missing = [lang for lang in LANGUAGES if not topic.labels.get(lang)]
        if missing:
            yield Problem(
                topics_module.FILE,
                f"topics.{topic.key}.label",
                f"add {{es: ..., en: ...}} (missing {', '.join(missing)})",
            )
        for intent in topic.intents:
            if intent not in intents:
                yield Problem(
                    topics_module.FILE, f"topics.{topic.key}.intents: {intent}", "no such intent in domain.yml"
                )
        for lang, phrases in topic.phrases.items():
            yield from _patterns(f"topics.{topic.key}.phrases.{lang}", phrases)
    for lang, phrases in topics.request_phrases.items():
        yield from _patterns(f"request_human.phrases.{lang}", phrases)
    for kind in topics.facts.values():
        for value, phrases in kind.values.items():
            yield from _patterns(f"facts.{kind.key}.values.{value}", phrases)


def _patterns(entry: str, phrases) -> Iterator[Problem]:
    for phrase in phrases:
        try:
            re.compile(phrase)
        except re.error as error:
            yield Problem(
                topics_module.FILE,
                f"{entry}: {phrase}",
                f"not a valid pattern ({error}); put \\ before ( ) [ ] ? * + |",
            )


def _intents(topics: Topics, domain: Dict[str, Any]) -> Iterator[Problem]:
    known = topics.intent_topics.keys() | topics.small_talk | topics.handoff_intents | SENT_BY_THE_CORE
    intents = rasa_data.names(domain.get("intents"))
    for intent in intents:
        if intent not in known:
            yield Problem(
                "domain.yml",
                f"intent {intent}",
                f"list it under a topic's `intents:` in {topics_module.FILE} (or under small_talk)",
            )
    for intent in sorted((SENT_BY_THE_CORE | topics.request_intents) - set(intents)):
        yield Problem("domain.yml", "intents", f"add {intent}: Posta sends it (docs/your-business.md)")


def _responses(domain: Dict[str, Any], topics: Topics) -> Iterator[Problem]:
    responses = domain.get("responses") or {}
    for name, placeholders in CORE_RESPONSES.items():
        if name not in responses:
            fills = f", which may say {placeholders}" if placeholders else ""
            yield Problem("domain.yml", "responses", f"add {name}: Posta sends it{fills} (docs/your-business.md)")
    for name, variations in responses.items():
        english = any(
            c.get("type") == "slot" and c.get("name") == "language" and c.get("value") == "en"
            for variation in variations or []
            for c in (variation.get("condition") or [])
        )
        if not english:
            yield Problem(
                "domain.yml",
                f"response {name}",
                "add a variation with `condition: [{type: slot, name: language, value: en}]` and the English text",
            )
        if name.startswith(SAFETY) and name[len(SAFETY) :] not in topics.topics:
            yield Problem(
                "domain.yml",
                f"response {name}",
                f"no topic {name[len(SAFETY) :]} in {topics_module.FILE}; known: {', '.join(topics.topics)}",
            )


def _rules(root: Path, topics: Topics, domain: Dict[str, Any]) -> Iterator[Problem]:
    handed_off = {intent for intent, actions in rasa_data.answers(root).items() if actions == (HANDOFF,)}
    intents = set(rasa_data.names(domain.get("intents"))) | {topics_module.FALLBACK}
    for intent in sorted((topics.handoff_intents & intents) - handed_off):
        topic = topics.topic_of(intent)
        why = f"sensitive topic {topic}" if topic in topics.sensitive_topics else "a person must answer it"
        yield Problem(
            "data/rules.yml",
            f"intent {intent} ({why})",
            f"add a rule with steps `- intent: {intent}` then `- action: {HANDOFF}`",
        )


def _teams(topics: Topics, loaded: business_config.BusinessConfig) -> Iterator[Problem]:
    known = set(topics.topics) | set(topics_module.CORE_LABELS)
    listed = {topic: key for key, team in loaded.teams.items() for topic in team.topics}
    for topic, team in sorted(listed.items()):
        if topic not in known:
            yield Problem(
                "business.yml",
                f"teams.{team}.topics: {topic}",
                f"no such topic in {topics_module.FILE}; known topics: {', '.join(sorted(known))}",
            )
    for topic in sorted(known - listed.keys()):
        yield Problem(
            "business.yml",
            f"topic {topic}",
            f"list it under the `topics:` of the team that handles it (now its cases go to "
            f"default_team {loaded.default_team} without anyone choosing it)",
        )


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"business: {len(problems)} problem(s)" if problems else "business: consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
