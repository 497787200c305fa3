"""Who wrote when: the 24-hour customer-service window. In the database, so every process
and replica agrees on whether a contact's window is open."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa

from posta.db import connect, insert, utcnow
from posta.schema import contacts

WINDOW = timedelta(hours=24)


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
    conn.execute(
        insert(conn.engine, contacts)
        .values(phone=phone, **values)
        .on_conflict_do_update(index_elements=[contacts.c.phone], set_=values)
    )
