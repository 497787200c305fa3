"""The inbox that makes webhook deliveries idempotent and ordered: every update is stored
before it is acknowledged, so a message Meta delivers twice is handled once even across
restarts and replicas, and a sender's messages are handled one at a time, in order."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import List, Optional, Sequence

import sqlalchemy as sa

from posta import backoff
from posta.claims import claim_in_order
from posta.db import connect, insert, utcnow
from posta.schema import inbox
from posta.whatsapp.contacts import seen
from posta.whatsapp.inbound import Inbound, Status, Update, from_record, to_record

# A replica that died mid-message gives it back after this long. A live replica renews its
# claim (`keep`) while it works, so a slow message (an action server restarting) is not
# taken over by another replica and handled twice.
STALE_CLAIM = timedelta(seconds=float(os.environ.get("POSTA_INBOX_STALE_SECONDS", "30")))
# Tries, with growing pauses (1 s doubling, at most a minute: about 6 minutes in all), before
# a message that keeps failing is set aside, logged, rather than block its sender for ever.
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Received:
    row_id: int
    update: Update
    attempts: int  # earlier tries: more than 0 means one failed or a replica died mid-message


class Inbox:
    """Every message received, durably, before the webhook answers 200; processing works
    from these rows. A repeat delivery from Meta is recognised by its id; a message whose
    processing was cut short (a killed replica) is claimed again after `STALE_CLAIM`; one
    phone's messages are processed one at a time, in arrival order, whichever replica
    received them."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    def accept(self, updates: Sequence[Update]) -> List[Update]:
        """Records a webhook's messages in one transaction and returns those not seen
        before (statuses are idempotent and always returned). A new message from a phone
        also opens that phone's 24-hour window."""
        fresh: List[Update] = []
        with self.engine.begin() as conn:
            for update in updates:
                if isinstance(update, Status):
                    fresh.append(update)
                    continue
                sender = update.sender if isinstance(update, Inbound) else update.customer
                added = conn.execute(
                    insert(self.engine, inbox)
                    .values(
                        message_id=update.id,
                        sender=sender,
                        kind=update.kind,
                        received_at=utcnow(),
                        attempts=0,
                        payload=json.dumps(to_record(update), ensure_ascii=False),
                    )
                    .on_conflict_do_nothing(index_elements=[inbox.c.message_id])
                ).rowcount
                if added:
                    fresh.append(update)
                    if isinstance(update, Inbound):
                        seen(conn, update.sender, update.name)
        return fresh

    def claim(self, worker: str, limit: int) -> List[Received]:
        """Up to `limit` messages to process now: the oldest unprocessed one of each phone
        whose earlier messages are all done and which nobody is processing."""
        now = utcnow()
        free = sa.and_(
            inbox.c.processed_at.is_(None),
            sa.or_(inbox.c.claimed_at.is_(None), inbox.c.claimed_at < now - STALE_CLAIM),
            sa.or_(inbox.c.retry_at.is_(None), inbox.c.retry_at <= now),
        )
        rows = claim_in_order(
            self.engine,
            inbox,
            key="sender",
            unsettled=lambda t: t.c.processed_at.is_(None),
            due=free,
            values=dict(claimed_by=worker, claimed_at=now, attempts=inbox.c.attempts + 1),
            limit=limit,
        )
        return [Received(r.id, from_record(json.loads(r.payload)), r.attempts - 1) for r in rows]

    def keep(self, row_id: int, worker: str) -> None:
        """Renews `worker`'s claim on a message it is still processing."""
        with self.engine.begin() as conn:
            conn.execute(
                inbox.update().where(inbox.c.id == row_id, inbox.c.claimed_by == worker).values(claimed_at=utcnow())
            )

    def processed(self, row_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(inbox.update().where(inbox.c.id == row_id).values(processed_at=utcnow()))

    def failed(self, row_id: int, error: str) -> bool:
        """A try that raised (a database or Redis restart, a bug): tried again after a pause,
        and given up after `MAX_ATTEMPTS` tries (True then)."""
        with self.engine.begin() as conn:
            attempts = conn.execute(sa.select(inbox.c.attempts).where(inbox.c.id == row_id)).scalar()
            give_up = attempts >= MAX_ATTEMPTS
            pause = timedelta(seconds=backoff.pause(attempts - 1, first=1, most=60))
            conn.execute(
                inbox.update()
                .where(inbox.c.id == row_id)
                .values(
                    claimed_by=None,
                    claimed_at=None,
                    error=error[:1000],
                    retry_at=utcnow() + pause,
                    processed_at=utcnow() if give_up else None,
                )
            )
        return give_up
