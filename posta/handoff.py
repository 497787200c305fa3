"""The handoff itself: why the bot steps aside, the case it opens, and the handback.

Plain functions over the config and the case store; the Rasa action and the channels
are thin adapters that call these with what they read from the tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Optional

from posta import lexicon, routing, topics
from posta.config import Agent, BusinessConfig
from posta.states import CaseEventKind, CaseStatus, Reason
from posta.store import Case, CaseStore
from posta.summary import CaseSummary


@dataclass(frozen=True)
class Decision:
    reason: str  # unsure, requested, sensitive
    topic: str
    matched_phrase: Optional[str] = None  # what the lexicon safety net saw, if it fired


def decide(
    intent: Optional[str], text: str, *, accepted_offer: bool = False, earlier_topic: Optional[str] = None
) -> Decision:
    """Why a handoff is due for this message.

    Sensitive beats requested (an angry customer asking for the manager is a complaint,
    and urgent); requested beats unsure. `accepted_offer` is a "yes" to the bot's offer of
    a person; `earlier_topic` is what the conversation was about before.
    """
    business = topics.current()
    hit = lexicon.match(text)
    topic = business.topic_of(intent)
    if topic in business.sensitive_topics:
        return Decision(Reason.SENSITIVE, topic)
    if hit and hit.category in business.sensitive_topics:
        return Decision(Reason.SENSITIVE, hit.category, hit.phrase)
    if intent in business.request_intents or accepted_offer or (hit and hit.category == Reason.REQUESTED):
        return Decision(Reason.REQUESTED, earlier_topic or "general", hit.phrase if hit else None)
    return Decision(Reason.UNSURE, topic or topics.GENERAL)


def needs_details(summary: CaseSummary, open_now: bool) -> bool:
    """After hours, the team needs a name and a request to act on first thing."""
    if open_now:
        return False
    vague = (
        summary.reason == Reason.REQUESTED and summary.topic == "general" and not any(m.media for m in summary.messages)
    )
    return not summary.customer_name or vague


@dataclass(frozen=True)
class Queue:
    place: int  # 1: next to be taken
    minutes: Optional[int]  # the wait estimated from recent cases; None with none to go by


@dataclass(frozen=True)
class Handoff:
    case: Case
    agent: Optional[Agent]  # who it was routed to; None when it waits in the team queue
    open_now: bool
    next_opening: Optional[datetime]
    queue: Optional[Queue] = None  # its place in the team queue, when it waits there


def queue_of(store: CaseStore, case: Case) -> Queue:
    """Where a waiting case stands in its team's queue (urgent first, then oldest), and a
    wait estimate: the median time a person took to take the team's last 20 cases, times
    its place."""
    waiting = store.open_cases(team=case.team, status=CaseStatus.WAITING)
    place = next((n for n, c in enumerate(waiting, start=1) if c.id == case.id), len(waiting) + 1)
    waits = store.recent_waits(case.team)
    minutes = max(1, round(median(waits) * place / 60)) if waits else None
    return Queue(place, minutes)


def hand_off(
    store: CaseStore, config: BusinessConfig, summary: CaseSummary, now: datetime, channel: Optional[str] = None
) -> Handoff:
    """Opens (or finds) the conversation's case and routes it."""
    open_now = config.schedule.is_open(now)
    team = config.team_for_topic(summary.topic)
    agent = None
    if open_now:
        agent = routing.choose_agent(
            config, team, summary.language, now, store.load_by_agent(), store.last_assignment_by_agent()
        )
    case = store.open_case(summary, team=team, agent=agent.name if agent else None, channel=channel)
    return Handoff(
        case=case,
        agent=config.agent_by_name(case.agent) if case.agent else None,
        open_now=open_now,
        next_opening=None if open_now else config.schedule.next_opening(now),
        queue=_told(store, case) if open_now and case.status == CaseStatus.WAITING else None,
    )


def _told(store: CaseStore, case: Case) -> Queue:
    """The place the customer is about to be told, remembered for later updates."""
    queue = queue_of(store, case)
    store.record(case.id, CaseEventKind.QUEUE_TOLD, None, str(queue.place))
    return queue


def told_place(store: CaseStore, case: Case) -> Optional[int]:
    """The place the customer was last told, if they were told one."""
    told = [e.detail for e in store.history(case.id) if e.kind == CaseEventKind.QUEUE_TOLD]
    return int(told[-1]) if told else None


def close_case(store: CaseStore, conversation_id: str, by: Optional[str] = None) -> Optional[Case]:
    """Closes the conversation's open case; the caller resumes the conversation."""
    return store.close(conversation_id, by=by)
