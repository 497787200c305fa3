"""The business owner's configuration (`business.yml`): hours, holidays, team, routing, tone.

Loaded once per process and validated up front, so a typo in the owner's file is a clear
error at start-up rather than a wrong decision in the middle of a conversation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Mapping, Optional, Sequence, Tuple, TypeVar

import yaml
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from posta.hours import WEEKDAYS, Schedule

LANGUAGES = ("es", "en")
TONES = ("transparent", "named")
ROOT = Path(__file__).resolve().parent.parent
REVIEW_ENV = "POSTA_REVIEW_DIR"
BUSINESS_ENV = "POSTA_BUSINESS"


T = TypeVar("T")


class ConfigError(ValueError):
    """The owner's configuration is invalid; the message says where and why."""


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    topics: Tuple[str, ...]
    aliases: Tuple[str, ...] = ()

    def called(self, words: str) -> bool:
        """Whether an agent typing `words` means this team ("soporte", "support", ...)."""
        wanted = words.strip().casefold()
        return wanted in {n.casefold() for n in (self.key, self.name) + self.aliases}


@dataclass(frozen=True)
class Agent:
    name: str
    phone: str
    teams: Tuple[str, ...]
    languages: Tuple[str, ...]
    max_open_cases: int
    schedule: Schedule
    role: str = "agent"
    password_hash: Optional[str] = None  # for the team panel (scripts/hash-password)

    @property
    def language(self) -> str:
        """The language the agent reads summaries in: their first one."""
        return self.languages[0]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class BusinessConfig:
    name: str
    timezone: ZoneInfo
    default_language: str
    schedule: Schedule
    tone: str
    teams: Mapping[str, Team]
    default_team: str
    agents: Tuple[Agent, ...] = field(default_factory=tuple)
    # Approved WhatsApp templates by use: agent_new_case, agent_digest, customer_followup
    whatsapp_templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    escalate_after_minutes: Optional[int] = None  # a case nobody answered by then is moved on
    rate_bot_after_minutes: Optional[int] = None  # "how did we do?" after a bot-only conversation this quiet
    retention_days: Optional[int] = None  # closed, quiet conversations older than this are erased

    def team_for_topic(self, topic: str) -> str:
        for team in self.teams.values():
            if topic in team.topics:
                return team.key
        return self.default_team

    def agent_by_phone(self, phone: str) -> Optional[Agent]:
        digits = "".join(ch for ch in str(phone) if ch.isdigit())
        return next((a for a in self.agents if a.phone == digits), None)

    def agent_by_name(self, name: str) -> Optional[Agent]:
        wanted = name.strip().casefold()
        return next((a for a in self.agents if a.name.casefold() == wanted), None)


def business_dir() -> Path:
    """The business this process serves: the directory in $POSTA_BUSINESS (relative to the
    repository), else the demo at the repository's root. It holds business.yml, topics.yml
    and the Rasa project (domain.yml, config.yml, data/, tests/stories/, eval/)."""
    return ROOT / os.environ.get(BUSINESS_ENV, ".")


def review_dir() -> Path:
    """Where the review files go (data/review/, tests/stories/, results/review/ under it):
    $POSTA_REVIEW_DIR, else the business's directory, where the designer works."""
    return Path(os.environ.get(REVIEW_ENV) or business_dir())


def load(path: Optional[os.PathLike] = None) -> BusinessConfig:
    """Reads and validates the owner's file (default: business.yml in the business's directory)."""
    return read(Path(path or business_dir() / "business.yml"), "business config", _parse)


def read(path: Path, what: str, parse: Callable[[dict], T]) -> T:
    """`parse` of a business file's YAML; any problem a ConfigError that names the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    try:
        return parse(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


@lru_cache(maxsize=None)
def current() -> BusinessConfig:
    """The process-wide configuration, read on first use."""
    return load()


def _parse(raw: dict) -> BusinessConfig:
    business = raw.get("business") or {}
    timezone = _timezone(business.get("timezone", "UTC"))
    default_language = business.get("default_language", "es")
    if default_language not in LANGUAGES:
        raise ConfigError(f"business.default_language must be one of {LANGUAGES}")
    holidays = frozenset(_date(d) for d in raw.get("holidays") or [])
    schedule = parse_hours(raw.get("hours") or {}, timezone, holidays)
    tone = raw.get("tone", "transparent")
    if tone not in TONES:
        raise ConfigError(f"tone must be one of {TONES}, not {tone!r}")
    teams = _teams(raw.get("teams") or {})
    default_team = raw.get("default_team") or next(iter(teams), "")
    if teams and default_team not in teams:
        raise ConfigError(f"default_team {default_team!r} is not one of the teams")
    agents = tuple(_agent(a, teams, schedule, timezone, holidays) for a in raw.get("agents") or [])
    phones = [a.phone for a in agents]
    if len(set(phones)) != len(phones):
        raise ConfigError("two agents share a phone number")
    return BusinessConfig(
        name=business.get("name", "Posta"),
        timezone=timezone,
        default_language=default_language,
        schedule=schedule,
        tone=tone,
        teams=teams,
        default_team=default_team,
        agents=agents,
        whatsapp_templates=_templates((raw.get("whatsapp") or {}).get("templates") or {}),
        escalate_after_minutes=_positive(raw.get("escalate_after_minutes"), "escalate_after_minutes"),
        rate_bot_after_minutes=_positive(raw.get("rate_bot_after_minutes"), "rate_bot_after_minutes"),
        retention_days=_positive((raw.get("privacy") or {}).get("retention_days"), "privacy.retention_days"),
    )


def _positive(value, name: str) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number above 0")
    return value


def _templates(raw: Mapping[str, dict]) -> Dict[str, Dict[str, str]]:
    known = ("agent_new_case", "agent_digest", "customer_followup")
    for use, spec in raw.items():
        if use not in known:
            raise ConfigError(f"whatsapp.templates: unknown use {use!r} (known: {', '.join(known)})")
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ConfigError(f"whatsapp.templates.{use} needs a name")
    return {use: {"name": spec["name"], "language": spec.get("language", "es")} for use, spec in raw.items()}


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}") from None


def _date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"holiday {value!r} is not a YYYY-MM-DD date") from None


def _teams(raw: Mapping[str, dict]) -> Dict[str, Team]:
    return {
        key: Team(
            key=key,
            name=(spec or {}).get("name", key),
            topics=tuple((spec or {}).get("topics") or ()),
            aliases=tuple((spec or {}).get("aliases") or ()),
        )
        for key, spec in raw.items()
    }


def parse_hours(raw: Mapping[str, Sequence[str]], timezone: ZoneInfo, holidays: FrozenSet[date]) -> Schedule:
    """`hours:` in business.yml: weekday -> ["10:00-19:00", ...]."""
    unknown = set(raw) - set(WEEKDAYS)
    if unknown:
        raise ConfigError(f"hours: unknown day(s) {sorted(unknown)}")
    weekly = []
    for day in WEEKDAYS:
        ranges = []
        for spec in raw.get(day) or ():
            try:
                start, end = (time.fromisoformat(part.strip()) for part in str(spec).split("-"))
            except ValueError:
                raise ConfigError(f"hours.{day}: {spec!r} is not like '10:00-19:00'") from None
            ranges.append((start, end))
        weekly.append(tuple(sorted(ranges)))
    return Schedule(timezone=timezone, weekly=tuple(weekly), holidays=frozenset(holidays))


def _agent(raw: dict, teams: Mapping[str, Team], business_schedule: Schedule, timezone, holidays) -> Agent:
    name = raw.get("name")
    if not name:
        raise ConfigError("every agent needs a name")
    phone = "".join(ch for ch in str(raw.get("phone", "")) if ch.isdigit())
    if len(phone) < 8:
        raise ConfigError(f"agent {name}: phone must be an international number, digits only")
    agent_teams = tuple(raw.get("teams") or ())
    unknown = [t for t in agent_teams if t not in teams]
    if unknown:
        raise ConfigError(f"agent {name}: unknown team(s) {unknown}")
    languages = tuple(raw.get("languages") or ("es",))
    if any(lang not in LANGUAGES for lang in languages):
        raise ConfigError(f"agent {name}: languages must be among {LANGUAGES}")
    hours = raw.get("hours")
    schedule = parse_hours(hours, timezone, holidays) if hours else business_schedule
    max_open = int(raw.get("max_open_cases", 3))
    if max_open < 1:
        raise ConfigError(f"agent {name}: max_open_cases must be at least 1")
    role = raw.get("role", "agent")
    if role not in ("agent", "admin"):
        raise ConfigError(f"agent {name}: role must be 'agent' or 'admin'")
    env_hash = os.environ.get(f"POSTA_PASSWORD_HASH_{name.upper()}")
    return Agent(
        name=name,
        phone=phone,
        teams=agent_teams,
        languages=languages,
        max_open_cases=max_open,
        schedule=schedule,
        role=role,
        password_hash=env_hash or raw.get("password_hash"),
    )


__all__ = ["Agent", "BusinessConfig", "ConfigError", "Team", "load", "current", "WEEKDAYS"]
