"""PostgreSQL LISTEN/NOTIFY: a process wakes up as soon as another one commits work for it.

The tables stay the truth (a listener that was reconnecting misses notifications, so
whoever listens also polls, slowly); a notification only says "look now". NOTIFY is part
of the writer's transaction, so it is delivered on commit, never for a row the listener
cannot see yet, and never for a transaction that rolled back. On SQLite (`make run`)
there is nothing to listen to and callers poll as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

OUTBOX = "posta_outbox"  # rows were added to the outbox


def notify(conn: Connection, channel: str) -> None:
    """Tells the listeners of `channel` when `conn`'s transaction commits (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": channel})


def can_listen(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


async def listen(engine: Engine, channel: str, heard: Callable[[], None], retry: float = 1.0) -> None:
    """Calls `heard` in this event loop whenever a NOTIFY on `channel` is committed, until
    cancelled; reconnects after the database restarts (and calls `heard` then, for what
    was committed while nobody listened)."""
    while True:
        try:
            await _listen_once(engine, channel, heard)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database restarting: listen again shortly
            logger.warning(
                "LISTEN %s interrupted (%s); listening again in %.0f s", channel, type(error).__name__, retry
            )
        await asyncio.sleep(retry)


async def _listen_once(engine: Engine, channel: str, heard: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    dbapi = await asyncio.to_thread(engine.dialect.dbapi.connect, *args, **kwargs)
    dbapi.autocommit = True
    readable, socket = asyncio.Event(), dbapi.fileno()
    try:
        with dbapi.cursor() as cursor:
            cursor.execute(f'LISTEN "{channel}"')
        loop.add_reader(socket, readable.set)
        heard()
        while True:
            await readable.wait()
            readable.clear()
            dbapi.poll()  # raises when the server went away
            if dbapi.notifies:
                dbapi.notifies.clear()
                heard()
    finally:
        loop.remove_reader(socket)
        dbapi.close()
