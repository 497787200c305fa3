"""Who wrote when: the 24-hour customer-service window, and the inbox that makes webhook
deliveries idempotent.

Both live in the database, so a message Meta delivers twice is handled once even across
restarts and replicas, and every process agrees on whether a contact's window is open.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Optional

import sqlalchemy as sa

from posta.db import UTCDateTime, connect, metadata, utcnow

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
        now = utcnow()
        with self.engine.begin() as conn:
            values = {"last_inbound_at": now, **({"name": name} if name else {})}
            if conn.execute(contacts.update().where(contacts.c.phone == phone).values(**values)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(contacts.insert().values(phone=phone, **values))
            except sa.exc.IntegrityError:  # another process inserted it first
                conn.execute(contacts.update().where(contacts.c.phone == phone).values(**values))

    def name(self, phone: str) -> Optional[str]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(contacts.c.name).where(contacts.c.phone == phone)).scalar()

    def window_open(self, phone: str, now: Optional[datetime] = None) -> bool:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(contacts.c.last_inbound_at).where(contacts.c.phone == phone)).scalar()
        return last is not None and (now or utcnow()) - last < WINDOW


class Inbox:
    """Message ids already received; `record` is False for a repeat delivery."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    def record(self, message_id: str, sender: str, kind: str, payload: Any = None) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(inbox.insert().values(
                    message_id=message_id, sender=sender, kind=kind, received_at=utcnow(),
                    payload=json.dumps(payload, ensure_ascii=False, default=str) if payload is not None else None))
            return True
        except sa.exc.IntegrityError:
            return False

    def processed(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(inbox.update().where(inbox.c.message_id == message_id).values(processed_at=utcnow()))
