"""How did we do? One question to the customer after a person handled their case, and
(if the business wants it) after a conversation the bot handled alone.

After a case: asked once, when a person hands it back, only if a person took it and only
inside the 24-hour window (outside it only a template could reach them, and a survey is not
worth one). The answer is a reply button Posta sent to that customer for that case: stored
on the case once; a low one is told to the team's admins. Reports show them by agent and
team (posta.reports.Ratings).

After the bot alone: asked once per conversation by a timed job (posta.jobs.bot_ratings)
when it has been quiet `rate_bot_after_minutes`; kept in posta_bot_ratings. A low one marks
the bot's turns before it as a possible miss for the review (posta.review).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from posta import alerts, texts
from posta.config import BusinessConfig
from posta.db import utcnow
from posta.schema import bot_ratings
from posta.states import Purpose
from posta.store import Case, CaseStore
from posta.whatsapp import outbound

SCORES = {"good": 3, "okay": 2, "bad": 1}
LOW = SCORES["bad"]
BUTTON = re.compile(r"^posta:rate:(\d+):([123])$")
BOT_BUTTON = re.compile(r"^posta:rate-bot:(\d+):([123])$")


def question(case: Case, lang: str) -> Dict[str, Any]:
    """What action_handback sends after its follow-up: the question and three buttons."""
    return {
        "text": texts.customer("rate_question", lang),
        "buttons": [{"title": title, "payload": payload} for payload, title in _options(f"posta:rate:{case.id}", lang)],
    }


def should_ask(case: Optional[Case], window_open: bool) -> bool:
    return bool(case and case.taken_at and window_open and case.channel in (None, "whatsapp"))


def is_answer(text: str) -> bool:
    return bool(BUTTON.match(text or "") or BOT_BUTTON.match(text or ""))


def _options(prefix: str, lang: str) -> List[tuple]:
    return [(f"{prefix}:{score}", texts.customer(f"rate_{name}", lang)) for name, score in SCORES.items()]


def record(
    config: BusinessConfig, store: CaseStore, outbox, customer: str, choice_id: str
) -> Optional[List[Dict[str, Any]]]:
    """Stores a rating button the customer pressed, if it is one Posta asked them for that
    case and the case has none yet; returns the thanks to send ([] if it was answered
    before; None if it is no question of ours: then it is words). A low rating reaches the
    team's admins."""
    if BOT_BUTTON.match(choice_id or ""):
        return BotRatings(store.engine).record(outbox, customer, choice_id)
    found = BUTTON.match(choice_id or "")
    case = store.get(int(found.group(1))) if found else None
    if case is None or case.conversation_id != customer or not outbox.offered(customer, choice_id):
        return None
    score = int(found.group(2))
    if not store.rate(case.id, score):
        return []  # answered already: kept once, and not a message for the bot either
    if score == LOW:
        admins = [a for a in config.agents if a.is_admin and (case.team in a.teams or not a.teams)]
        for admin in admins or [a for a in config.agents if a.is_admin]:
            line = texts.desk("low_rating", admin.language, case=case.id, customer=case.who, agent=case.agent or "?")
            alerts.tell(outbox, admin, line, case)
    return outbound.text(customer, texts.customer("rated", case.language))


@dataclass(frozen=True)
class BotRating:
    id: int
    conversation_id: str
    asked_at: datetime
    language: str
    rating: Optional[int]
    rated_at: Optional[datetime]
    lesson: Optional[Dict[str, Any]]  # the review page's choice
    lesson_by: Optional[str]


class BotRatings:
    """The conversations the bot handled alone that were asked "how did we do?"."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ask(self, outbox, conversation_id: str, lang: str) -> int:
        """Puts the question to the customer: a row for the answer, and three buttons."""
        with self.engine.begin() as conn:
            rating_id = conn.execute(
                bot_ratings.insert().values(conversation_id=conversation_id, asked_at=utcnow(), language=lang)
            ).inserted_primary_key[0]
        asked = outbound.choices(
            conversation_id,
            texts.customer("rate_bot_question", lang),
            _options(f"posta:rate-bot:{rating_id}", lang),
            lang,
        )
        outbox.enqueue(asked, purpose=Purpose.REPLY, conversation_id=conversation_id, key=f"rate-bot:{rating_id}")
        return rating_id

    def get(self, rating_id: int) -> Optional[BotRating]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(bot_ratings).where(bot_ratings.c.id == rating_id)).first()
        return _rating(row) if row else None

    def record(self, outbox, customer: str, choice_id: str) -> Optional[List[Dict[str, Any]]]:
        """As `record` for a case: the thanks, [] if answered before, None if not ours."""
        found = BOT_BUTTON.match(choice_id or "")
        asked = self.get(int(found.group(1))) if found else None
        if asked is None or asked.conversation_id != customer or not outbox.offered(customer, choice_id):
            return None
        with self.engine.begin() as conn:
            stored = conn.execute(
                bot_ratings.update()
                .where(bot_ratings.c.id == asked.id, bot_ratings.c.rating.is_(None))
                .values(rating=int(found.group(2)), rated_at=utcnow())
            ).rowcount
        return outbound.text(customer, texts.customer("rated", asked.language)) if stored else []

    def low_between(self, start: datetime, end: datetime) -> List[BotRating]:
        """The low answers to questions asked in [start, end): the possible misses."""
        query = (
            sa.select(bot_ratings)
            .where(bot_ratings.c.asked_at >= start, bot_ratings.c.asked_at < end, bot_ratings.c.rating == LOW)
            .order_by(bot_ratings.c.id)
        )
        with self.engine.connect() as conn:
            return [_rating(row) for row in conn.execute(query)]

    def choose(self, rating_id: int, lesson: Dict[str, Any], by: str) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    bot_ratings.update()
                    .where(bot_ratings.c.id == rating_id)
                    .values(lesson=json.dumps(lesson), lesson_by=by)
                ).rowcount
            )


def _rating(row) -> BotRating:
    data = dict(row._mapping)
    data["lesson"] = json.loads(data["lesson"]) if data["lesson"] else None
    return BotRating(**data)
