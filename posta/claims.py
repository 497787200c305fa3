"""Work shared between processes through the database, in order per key: the inbox (per
customer) and the outbox (per recipient) both claim rows this way, and both run the same
loop that claims, starts a task per piece of work, and sleeps until woken."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def claim_in_order(
    engine: Engine,
    table: sa.Table,
    *,
    key: str,
    unsettled: Callable[[Any], Any],
    due: Any,
    values: Dict[str, Any],
    limit: Optional[int],
) -> List[Any]:
    """Marks as claimed (`values`) up to `limit` rows that are `due` and have no earlier
    `unsettled` row of the same `key` column; returns them oldest first. Each row is won by
    a conditional update, so two claimers never get the same row."""
    earlier = table.alias("earlier")
    blocked = sa.exists().where(earlier.c[key] == table.c[key], earlier.c.id < table.c.id, unsettled(earlier))
    query = sa.select(table.c.id).where(due, ~blocked).order_by(table.c.id)
    if limit is not None:
        query = query.limit(limit)
    with engine.begin() as conn:
        won = [
            row_id
            for (row_id,) in conn.execute(query).fetchall()
            if conn.execute(table.update().where(table.c.id == row_id, due).values(**values)).rowcount
        ]
        return conn.execute(sa.select(table).where(table.c.id.in_(won)).order_by(table.c.id)).fetchall()


class WorkLoop:
    """Claims work, runs each piece as a task, and waits until woken (new work here, a task
    done) or `poll` seconds pass (work other processes left)."""

    def __init__(self, name: str, poll: float, at_once: Optional[int] = None) -> None:
        self.name, self.poll, self.at_once = name, poll, at_once
        self.in_flight: set = set()
        self._wake: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stopped = False

    def wake(self) -> None:
        """Safe from any thread, before or after the loop starts."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        self._stopped = True
        self.wake()

    async def run(
        self,
        claim: Callable[[Optional[int]], Sequence[Any]],
        start: Callable[[Sequence[Any]], Sequence[Awaitable[None]]],
    ) -> None:
        """`claim(room)` (in a thread) returns what is due, at most `room` when `at_once` is
        set; `start(batch)` turns it into the tasks' coroutines."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        while not self._stopped:
            self._wake.clear()
            room = None if self.at_once is None else self.at_once - len(self.in_flight)
            batch: Sequence[Any] = []
            if room is None or room > 0:
                try:
                    batch = await asyncio.to_thread(claim, room)
                except Exception:  # the database is away: keep the loop alive and try again
                    logger.exception("%s: could not claim work", self.name)
            for coroutine in start(batch) if batch else ():
                task = asyncio.ensure_future(coroutine)
                self.in_flight.add(task)
                task.add_done_callback(self._done)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll)
            except asyncio.TimeoutError:
                pass

    async def drain(self, timeout: float = 10.0) -> None:
        """Lets the tasks under way finish (after `stop`)."""
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=timeout)

    def _done(self, task: "asyncio.Future") -> None:
        self.in_flight.discard(task)
        if self._wake is not None:
            self._wake.set()  # room for more, or the next of that key may be due
