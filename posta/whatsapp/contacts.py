"""Who wrote when: the 24-hour customer-service window, and the inbox that makes webhook
deliveries idempotent.

Both live in the database, so a message Meta delivers twice is handled once even across
restarts and replicas, and every process agrees on whether a contact's window is open.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import List, Optional, Sequence

import sqlalchemy as sa

from posta.db import UTCDateTime, connect, insert, metadata, utcnow
from posta.whatsapp.inbound import Inbound, Status, Update

WINDOW = timedelta(hours=24)

contacts = sa.Table(
    "posta_contacts",
    metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("last_inbound_at", UTCDateTime),  # their last message to the business
)

inbox = sa.Table(
    "posta_inbox",
    metadata,
    sa.Column("message_id", sa.String(255), primary_key=True),
    sa.Column("sender", sa.String(64)),
    sa.Column("kind", sa.String(16)),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.Text),
    sa.Column("processed_at", UTCDateTime),
)


class Contacts:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    def seen(self, phone: str, name: Optional[str] = None) -> None:
        """Records that `phone` wrote to the business just now, which opens its 24-hour window.

        Receipt time, not the message's own timestamp: Meta delivers within seconds, and a
        stale timestamp in a replayed payload must not close a window that is open.
        """
        with self.engine.begin() as conn:
            seen(conn, phone, name)

    def name(self, phone: str) -> Optional[str]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(contacts.c.name).where(contacts.c.phone == phone)).scalar()

    def window_open(self, phone: str, now: Optional[datetime] = None) -> bool:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(contacts.c.last_inbound_at).where(contacts.c.phone == phone)).scalar()
        return last is not None and (now or utcnow()) - last < WINDOW


def seen(conn, phone: str, name: Optional[str]) -> None:
    values = {"last_inbound_at": utcnow(), **({"name": name} if name else {})}
    conn.execute(insert(conn.engine, contacts).values(phone=phone, **values).on_conflict_do_update(
        index_elements=[contacts.c.phone], set_=values))


class Inbox:
    """Message ids already received: a repeat delivery from Meta is recognised, across
    restarts and replicas."""

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
                added = conn.execute(insert(self.engine, inbox).values(
                    message_id=update.id, sender=sender, kind=update.kind, received_at=utcnow(),
                    payload=json.dumps(dataclasses.asdict(update), ensure_ascii=False, default=str),
                ).on_conflict_do_nothing(index_elements=[inbox.c.message_id])).rowcount
                if added:
                    fresh.append(update)
                    if isinstance(update, Inbound):
                        seen(conn, update.sender, update.name)
        return fresh

    def processed(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(inbox.update().where(inbox.c.message_id == message_id).values(processed_at=utcnow()))
