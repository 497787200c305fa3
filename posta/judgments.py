"""Was a person needed? One tap by the person who handled a case, when they hand it back.

On WhatsApp the question comes as three reply buttons; in the panel, as buttons on the
closed case. "No, the bot could have answered" asks which of the business's answers
would have served (its FAQ topics, from topics.yml). Skippable, never asked twice for a
case, stored with who answered. Reports turn the answers into handoff precision by
reason (posta.reports.Judged), beside the possible misses: chats a person took over
without the bot escalating, and requests for a person right after a bot answer (and,
from posta.ratings, conversations the bot handled alone that were rated low).
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from posta import alerts, texts
from posta import topics as topics_module
from posta.config import Agent
from posta.states import CaseStatus, Purpose, Reason
from posta.store import Case, CaseStore
from posta.whatsapp import outbound
from posta.whatsapp.outbox import Outbox

NEEDED, BOT, OTHER = "needed", "bot", "other"
JUDGMENTS = (NEEDED, BOT, OTHER)
ANSWER = re.compile(r"^(needed|bot|other)(?::([a-z0-9_]+))?$")


def answerable_topics() -> List[str]:
    """The business's topics the bot answers itself (not sensitive, not handed off)."""
    business = topics_module.current()
    return [t.key for t in business.topics.values() if t.intents and not t.sensitive and not t.hand_off]


def ask(outbox: Outbox, agent: Agent, case: Case) -> None:
    """The question on the agent's WhatsApp, right after they handed back."""
    lang = agent.language
    buttons = [(f"{alerts.BUTTON_PREFIX}judge:{case.id}:{j}", texts.desk(f"judge_{j}", lang)) for j in JUDGMENTS]
    _ask(outbox, agent, case, texts.desk("judge_question", lang, case=case.id), buttons, f"judge:{case.id}")


def ask_topic(outbox: Outbox, agent: Agent, case: Case) -> None:
    """After "the bot could have answered": with which of its answers (a list)."""
    lang = agent.language
    business = topics_module.current()
    rows = [
        (f"{alerts.BUTTON_PREFIX}judge:{case.id}:{BOT}:{topic}", business.label(topic, lang))
        for topic in answerable_topics()
    ][:10]
    if rows:
        _ask(outbox, agent, case, texts.desk("judge_topic", lang, case=case.id), rows, f"judge-topic:{case.id}")


def _ask(outbox: Outbox, agent: Agent, case: Case, question: str, options: List[Tuple[str, str]], key: str) -> None:
    """Asked once (the key), on the agent's phone, about the case."""
    outbox.enqueue(
        outbound.choices(agent.phone, question, options, agent.language),
        purpose=Purpose.INFO,
        conversation_id=case.conversation_id,
        case_id=case.id,
        key=key,
    )


def parse(answer: str) -> Optional[Tuple[str, Optional[str]]]:
    """('bot', 'hours') from 'bot:hours'; None for anything else."""
    found = ANSWER.match(answer or "")
    if not found or (found.group(2) and found.group(2) not in answerable_topics()):
        return None
    return found.group(1), found.group(2)


def record(store: CaseStore, agent: Agent, case: Case, answer: str) -> Optional[str]:
    """Stores the judgment of a closed case the agent handled; what to tell them, or None
    if there is nothing to store (not theirs, not closed, answered already)."""
    parsed = parse(answer)
    if parsed is None or case.status != CaseStatus.CLOSED or agent.name not in (case.agent, case.closed_by):
        return None
    judgment, topic = parsed
    if not store.judge(case.id, judgment, topic, agent.name):
        return None
    return texts.desk("judged", agent.language, case=case.id)


def possible_miss(case: Case) -> bool:
    """A handoff the bot did not start, or started too late: a person took over a chat it
    had not escalated, or the customer asked for a person right after a bot answer."""
    return case.reason == Reason.AGENT_TAKEOVER or (case.reason == Reason.REQUESTED and bool(case.summary.answered))


def precision(cases: List[Case]) -> Dict[str, Dict[str, Optional[float]]]:
    """By reason: how many were judged, how many of those needed a person, and the share."""
    result: Dict[str, Dict[str, Optional[float]]] = {}
    for reason in sorted({c.reason for c in cases}):
        judged = [c for c in cases if c.reason == reason and c.judgment]
        needed = sum(1 for c in judged if c.judgment == NEEDED)
        result[reason] = {
            "handoffs": sum(1 for c in cases if c.reason == reason),
            "judged": len(judged),
            "needed": needed,
            "precision": round(needed / len(judged), 3) if judged else None,
        }
    return result
