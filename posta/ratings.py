"""How did we do? One question to the customer after a person handled their case.

Asked once per case, when a person hands it back, only if a person took it and only inside
the 24-hour window (outside it only a template could reach them, and a survey is not worth
one). The answer is a reply button Posta sent to that customer for that case: stored on the
case once; a low one is told to the team's admins. Reports show them by agent and team
(posta.reports.Ratings).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from posta import alerts, texts
from posta.config import BusinessConfig
from posta.store import Case, CaseStore
from posta.whatsapp import outbound

SCORES = {"good": 3, "okay": 2, "bad": 1}
LOW = SCORES["bad"]
BUTTON = re.compile(r"^posta:rate:(\d+):([123])$")


def question(case: Case, lang: str) -> Dict[str, Any]:
    """What action_handback sends after its follow-up: the question and three buttons."""
    return {
        "text": texts.customer("rate_question", lang),
        "buttons": [
            {"title": texts.customer(f"rate_{name}", lang), "payload": f"posta:rate:{case.id}:{score}"}
            for name, score in SCORES.items()
        ],
    }


def should_ask(case: Optional[Case], window_open: bool) -> bool:
    return bool(case and case.taken_at and window_open and case.channel in (None, "whatsapp"))


def is_answer(text: str) -> bool:
    return bool(BUTTON.match(text or ""))


def record(
    config: BusinessConfig, store: CaseStore, outbox, customer: str, choice_id: str
) -> Optional[List[Dict[str, Any]]]:
    """Stores a rating button the customer pressed, if it is one Posta asked them for that
    case and the case has none yet; returns the thanks to send ([] if it was answered
    before; None if it is no question of ours: then it is words). A low rating reaches the
    team's admins."""
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
