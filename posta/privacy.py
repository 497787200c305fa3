"""Conversations hold health data: masking in logs, erasing a customer, and retention.

`erase` removes everything Posta and Rasa keep about one phone number: the tracker (Rasa's
`events` rows, every session), cases with their notes and history, inbox and outbox rows
and the contact. `purge` erases the conversations whose cases are all closed and whose
last message is older than the retention period.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from posta import rasa_events
from posta.db import utcnow
from posta.phones import mask_phone
from posta.schema import agent_state, bot_ratings, case_events, cases, contacts, inbox, media, outbox
from posta.states import OPEN_STATUSES

logger = logging.getLogger(__name__)


def erase(engine: Engine, conversation_id: str) -> Dict[str, int]:
    """Deletes every row about one customer, in one transaction; returns the counts."""
    counts: Dict[str, int] = {}
    with engine.begin() as conn:
        case_ids = [
            row.id for row in conn.execute(sa.select(cases.c.id).where(cases.c.conversation_id == conversation_id))
        ]
        if case_ids:
            conn.execute(
                agent_state.update().where(agent_state.c.active_case_id.in_(case_ids)).values(active_case_id=None)
            )
            counts["case_events"] = conn.execute(
                case_events.delete().where(case_events.c.case_id.in_(case_ids))
            ).rowcount
        counts["cases"] = conn.execute(cases.delete().where(cases.c.conversation_id == conversation_id)).rowcount
        counts["inbox"] = conn.execute(inbox.delete().where(inbox.c.sender == conversation_id)).rowcount
        counts["outbox"] = conn.execute(
            outbox.delete().where(
                sa.or_(outbox.c.recipient == conversation_id, outbox.c.conversation_id == conversation_id)
            )
        ).rowcount
        counts["contacts"] = conn.execute(contacts.delete().where(contacts.c.phone == conversation_id)).rowcount
        counts["media"] = conn.execute(media.delete().where(media.c.conversation_id == conversation_id)).rowcount
        counts["bot_ratings"] = conn.execute(
            bot_ratings.delete().where(bot_ratings.c.conversation_id == conversation_id)
        ).rowcount
        counts["events"] = rasa_events.erase(conn, conversation_id)
    logger.info("erased customer %s: %s", mask_phone(conversation_id), counts)
    return counts


def stale_conversations(engine: Engine, retention_days: int, now: Optional[datetime] = None) -> List[str]:
    """Conversations with no open case whose last event is older than the retention."""
    old = rasa_events.quiet_since(engine, (now or utcnow()) - timedelta(days=retention_days))
    with engine.connect() as conn:
        open_ = {
            row[0] for row in conn.execute(sa.select(cases.c.conversation_id).where(cases.c.status.in_(OPEN_STATUSES)))
        }
    return [conversation for conversation in old if conversation not in open_]


def purge(engine: Engine, retention_days: int, now: Optional[datetime] = None) -> int:
    """Erases every stale conversation; returns how many."""
    stale = stale_conversations(engine, retention_days, now)
    for conversation_id in stale:
        erase(engine, conversation_id)
    return len(stale)
