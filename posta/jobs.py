"""Timed work, run by the worker process: once each, however many workers or restarts.

- At each opening, every team gets a digest of the cases that waited overnight (the
  `agent_digest` template when an agent's 24-hour window is closed).
- A case nobody answered within `escalate_after_minutes` (business hours only) goes to
  another available agent, or is raised to the admins; the customer is told once.
- A customer waiting in a queue whose place has halved since they were told it (from 4th
  to 2nd, say) is told the new place and estimate, once per place; smaller moves are not
  worth a message.
- A customer the bot served alone (it answered their question; no person took part) is
  asked "how did we do?" once their conversation has been quiet `rate_bot_after_minutes`,
  inside their 24-hour window, once per conversation (posta.ratings.BotRatings).
- Every day, conversations closed and quiet for `retention_days` are erased.

Each run is claimed by inserting its key into `posta_job_runs` (ON CONFLICT DO NOTHING):
the worker that inserts it does the work, any other skips it. The keys hold across
restarts, so nothing is sent twice and nothing is skipped because a worker was down for a
moment (a missed opening is caught up within `CATCH_UP`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import List

from posta import alerts, handoff, privacy, rasa_events, ratings, routing, summary, texts
from posta.config import Agent, BusinessConfig
from posta.db import insert, utcnow
from posta.schema import job_runs
from posta.states import CaseEventKind, CaseStatus, Purpose
from posta.store import Case, CaseStore
from posta.whatsapp import outbound
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.outbox import Outbox

logger = logging.getLogger(__name__)
CATCH_UP = timedelta(hours=2)


def once(store: CaseStore, key: str) -> bool:
    """True for exactly one caller per key, ever."""
    with store.engine.begin() as conn:
        return bool(
            conn.execute(
                insert(store.engine, job_runs)
                .values(key=key, ran_at=utcnow())
                .on_conflict_do_nothing(index_elements=[job_runs.c.key])
            ).rowcount
        )


def run_due(config: BusinessConfig, store: CaseStore, outbox: Outbox, contacts: Contacts, now: datetime) -> List[str]:
    """Everything due at `now` (business time); returns the keys this call ran."""
    ran = []
    ran += opening_digests(config, store, outbox, contacts, now)
    ran += escalations(config, store, outbox, contacts, now)
    ran += queue_updates(config, store, outbox, now)
    ran += bot_ratings(config, store, outbox, contacts, now)
    ran += retention(config, store, now)
    return ran


def queue_updates(config, store, outbox, now) -> List[str]:
    if not config.schedule.is_open(now):
        return []
    ran = []
    for case in store.open_cases(status=CaseStatus.WAITING):
        told = handoff.told_place(store, case)
        if told is None or told < 2 or case.channel not in (None, "whatsapp"):
            continue
        queue = handoff.queue_of(store, case)
        key = f"queue:{case.id}:{queue.place}"
        if queue.place > told // 2 or not once(store, key):
            continue
        store.record(case.id, CaseEventKind.QUEUE_TOLD, None, str(queue.place))
        line = texts.customer(
            "queue_moved", case.language, queue=texts.queue_line(queue.place, queue.minutes, case.language)
        )
        alerts.tell_customer(outbox, case, line, key)
        ran.append(key)
    return ran


def bot_ratings(config, store, outbox, contacts, now) -> List[str]:
    minutes = config.rate_bot_after_minutes
    if not minutes:
        return []
    ran = []
    window = now - timedelta(hours=23)  # the answer must still fit in their 24-hour window
    for conversation, last in rasa_events.last_events(store.engine, now - timedelta(minutes=minutes), window).items():
        if not once(store, f"rate-bot-looked:{conversation}:{last}"):
            continue  # nothing new since it was looked at: whether to ask cannot have changed
        events = rasa_events.load(store.engine, conversation)
        stretch = summary.current_window(events)
        started = next((e.get("timestamp") for e in stretch if e.get("timestamp")), None)
        if started is None or not _served_alone(store, conversation, stretch, min(started, window.timestamp())):
            continue
        if not contacts.window_open(conversation, now) or not once(store, f"rate-bot:{conversation}:{started}"):
            continue
        ratings.BotRatings(store.engine).ask(
            outbox, conversation, rasa_events.language(events, config.default_language)
        )
        ran.append(f"rate-bot:{conversation}")
    return ran


def _served_alone(store, conversation: str, stretch, since: float) -> bool:
    """The bot answered a question of this stretch of conversation, and no person took part
    in it or in the day before (they were asked about that case)."""
    latest = store.latest_case_for(conversation)
    if latest and (latest.closed_at or latest.created_at).timestamp() >= since:
        return False
    answered = summary.build(stretch, conversation_id=conversation, reason="", topic="", language="").answered
    return bool(answered)


def opening_digests(config, store, outbox, contacts, now) -> List[str]:
    opening = _latest_opening(config, now)
    if opening is None or now - opening > CATCH_UP:
        return []
    ran = []
    for team in config.teams:
        waiting = [c for c in store.open_cases(team=team, status=CaseStatus.WAITING) if c.created_at < opening]
        key = f"digest:{opening.isoformat()}:{team}"
        if waiting and once(store, key):
            for agent in (a for a in config.agents if team in a.teams):
                _digest(config, outbox, contacts, agent, team, waiting, key)
            ran.append(key)
    return ran


def _digest(config, outbox, contacts, agent: Agent, team: str, waiting: List[Case], key: str) -> None:
    lang = agent.language
    if not contacts.window_open(agent.phone):
        digest = outbound.configured_template(
            config.whatsapp_templates, "agent_digest", agent.phone, lang, [str(len(waiting)), config.teams[team].name]
        )
        if digest:
            outbox.enqueue([digest], purpose=Purpose.NOTIFY, key=f"{key}:{agent.phone}")
        return
    lines = [texts.desk("digest", lang, count=len(waiting), team=config.teams[team].name)]
    lines += [f"#{c.id} {c.who} · {texts.topic_name(c.topic, lang)}" for c in waiting]
    lines.append(texts.desk("digest_take", lang))
    outbox.enqueue(outbound.text(agent.phone, "\n".join(lines)), purpose=Purpose.NOTIFY, key=f"{key}:{agent.phone}")


def escalations(config, store, outbox, contacts, now) -> List[str]:
    limit = config.escalate_after_minutes
    if not limit or not config.schedule.is_open(now):
        return []
    ran = []
    opening = _latest_opening(config, now) or now
    for case in store.open_cases():
        waited = now - max(case.assigned_at or case.created_at, opening)  # the night does not count
        if case.first_reply_at or case.status == CaseStatus.ACTIVE or waited < timedelta(minutes=limit):
            continue
        key = f"escalate:{case.id}"
        if not once(store, key):
            continue
        chosen = routing.choose_agent(
            config,
            case.team,
            case.language,
            now,
            store.load_by_agent(),
            store.last_assignment_by_agent(),
            exclude={case.agent} if case.agent else (),
        )
        if chosen is not None:
            alerts.route_and_announce(
                config,
                store,
                outbox,
                contacts,
                case,
                team=case.team,
                agent=chosen.name,
                by=None,
                kind=CaseEventKind.ESCALATED,
            )
        else:
            store.record(case.id, CaseEventKind.ESCALATED, None, "admins")
            admins = [a for a in config.agents if a.is_admin]
            alerts.announce(config, outbox, contacts, case, recipients=admins)
        if case.channel in (None, "whatsapp"):
            alerts.tell_customer(outbox, case, texts.customer("still_looking", case.language), key)
        ran.append(key)
    return ran


def retention(config, store, now) -> List[str]:
    days = config.retention_days
    key = f"purge:{now.date().isoformat()}"
    if not days or not once(store, key):
        return []
    erased = privacy.purge(store.engine, days)
    logger.info("retention: erased %d conversations quiet for %d days", erased, days)
    return [key]


def _latest_opening(config: BusinessConfig, now: datetime):
    """The start of the latest shift that began at or before `now`."""
    day_before = now - timedelta(days=1, minutes=1)
    opening = config.schedule.next_opening(day_before)
    latest = None
    while opening is not None and opening <= now:
        latest = opening
        opening = config.schedule.next_opening(opening)
    return latest
