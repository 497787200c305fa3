"""`make validate`, beside `rasa data validate`: checks that the business and the conversation
design agree, and says for each problem the file, the entry and what to write.

- every intent of domain.yml has a topic (posta/topics.py), is small talk, or is one the
  bot hands off or the team sends;
- every topic a case can have is listed by a team in business.yml (else it silently goes
  to `default_team`), and every topic a team lists exists;
- every intent of a sensitive topic opens a rule that ends in `action_handoff`;
- every response has an English variation (`condition: language = en`);
- business.yml itself loads: hours, holidays, phones, teams, templates.

Reads YAML only: no Rasa, no model."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import yaml

from posta import config as business_config
from posta.topics import HANDOFF_INTENTS, INTENT_TOPICS, SENSITIVE_TOPICS, SMALL_TALK_INTENTS

ROOT = Path(__file__).resolve().parent.parent
SENT_BY_THE_TEAM = frozenset({"handback"})
GENERAL = "general"  # the topic of a request for a person with nothing more to go on
HANDOFF = "action_handoff"


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.fix}"


def check(root: Path = ROOT, business: Optional[Path] = None) -> List[Problem]:
    business = business or root / "business.yml"
    domain = _yaml(root / "domain.yml")
    problems = list(_intents(domain)) + list(_responses(domain)) + list(_rules(root))
    try:
        loaded = business_config.load(business)
    except business_config.ConfigError as error:
        return problems + [Problem(business.name, "the file", str(error))]
    return problems + list(_teams(business.name, loaded))


def _intents(domain: Dict[str, Any]) -> Iterator[Problem]:
    known = INTENT_TOPICS.keys() | SMALL_TALK_INTENTS | HANDOFF_INTENTS | SENT_BY_THE_TEAM
    for intent in _names(domain.get("intents")):
        if intent not in known:
            yield Problem(
                "domain.yml",
                f"intent {intent}",
                f'give it a topic in posta/topics.py (INTENT_TOPICS["{intent}"] = "<topic>") or make it small talk',
            )


def _responses(domain: Dict[str, Any]) -> Iterator[Problem]:
    for name, variations in (domain.get("responses") or {}).items():
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


def _rules(root: Path) -> Iterator[Problem]:
    handed_off = set()
    for path in sorted((root / "data").rglob("*.yml")):
        for rule in _yaml(path).get("rules") or []:
            steps = [next(iter(step.items())) for step in rule.get("steps") or [] if step]
            if len(steps) == 2 and steps[0][0] == "intent" and steps[1] == ("action", HANDOFF):
                handed_off.add(steps[0][1])
    for intent, topic in sorted(INTENT_TOPICS.items()):
        if topic in SENSITIVE_TOPICS and intent not in handed_off:
            yield Problem(
                "data/rules.yml",
                f"intent {intent} (sensitive topic {topic})",
                f"add a rule with steps `- intent: {intent}` then `- action: {HANDOFF}`",
            )


def _teams(file: str, loaded: business_config.BusinessConfig) -> Iterator[Problem]:
    topics = set(INTENT_TOPICS.values()) | {GENERAL}
    listed = {topic: key for key, team in loaded.teams.items() for topic in team.topics}
    for topic, team in sorted(listed.items()):
        if topic not in topics:
            yield Problem(
                file,
                f"teams.{team}.topics: {topic}",
                f"no intent has this topic; known topics: {', '.join(sorted(topics))}",
            )
    for topic in sorted(topics - listed.keys()):
        yield Problem(
            file,
            f"topic {topic}",
            f"list it under the `topics:` of the team that handles it (now its cases go to "
            f"default_team {loaded.default_team} without anyone choosing it)",
        )


def _names(items: Any) -> List[str]:
    return [next(iter(item)) if isinstance(item, dict) else str(item) for item in items or []]


def _yaml(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"business: {len(problems)} problem(s)" if problems else "business: consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
