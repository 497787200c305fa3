"""The one path for everything Posta sends on WhatsApp.

Bot replies, relayed agent messages and case notifications (written by the action server,
another process) are rows in `posta_outbox`. A `Sender`, in the outbox worker's own
process (`posta.whatsapp.worker`), sends them in order per recipient, applies the 24-hour window (outside it, the row's template is sent
instead, and the log says so), retries 429/5xx/timeouts with exponential backoff, and
hands a message that finally fails to `on_failure`, which puts it where a person sees it.
Delivery statuses from the webhook are written back to the row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Sequence

import sqlalchemy as sa

from posta import backoff, pg_notify
from posta.claims import WorkLoop, claim_in_order
from posta.db import connect, insert, utcnow
from posta.media import MediaStore
from posta.phones import mask_phone
from posta.schema import inbox, outbox
from posta.states import TO_AGENTS, Purpose, SendStatus
from posta.whatsapp import outbound
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.graph import GraphClient, GraphError

logger = logging.getLogger(__name__)

# 429, 5xx and timeouts are retried: 0.5 s doubling, at most 30 s apart (so sending resumes
# soon after an outage ends), 18 tries in all (about 6 minutes), so an outage of Meta's API
# of a few minutes loses nothing.
MAX_ATTEMPTS = 18
FIRST_RETRY = 0.5
MAX_RETRY = 30.0
# A sender that died mid-send gives its rows back after this long: keep it well above the
# Graph API call's timeout, or a slow call's message would be sent again by another sender.
# An upload is sent by its id for this long (Meta keeps it 30 days).
UPLOAD_KEPT = timedelta(days=29)
STALE_CLAIM = timedelta(seconds=float(os.environ.get("POSTA_OUTBOX_STALE_SECONDS", "120")))


# The inbound message being processed, and how many rows it has queued so far: rows queued
# while handling it get keys derived from its id, the same ones if it is handled again.
_handling: ContextVar[Optional[List]] = ContextVar("posta_handling", default=None)


@contextmanager
def handling(message_id: str) -> Iterator[None]:
    """Rows queued inside get deterministic dedupe keys from `message_id`."""
    token = _handling.set([message_id, 0])
    try:
        yield
    finally:
        _handling.reset(token)


def current_message() -> Optional[str]:
    state = _handling.get()
    return state[0] if state else None


def _next_key() -> Optional[str]:
    state = _handling.get()
    if state is None:
        return None
    state[1] += 1
    return f"{state[0]}:{state[1]}"


@dataclass(frozen=True)
class Outgoing:
    id: int
    recipient: str
    body: Dict[str, Any]
    fallback: Optional[Dict[str, Any]]
    purpose: str
    conversation_id: Optional[str]
    case_id: Optional[int]
    attempts: int
    status: str = SendStatus.PENDING
    wamid: Optional[str] = None
    error: Optional[str] = None

    @classmethod
    def from_row(cls, row) -> "Outgoing":
        return cls(
            id=row.id,
            recipient=row.recipient,
            body=json.loads(row.body),
            fallback=json.loads(row.fallback) if row.fallback else None,
            purpose=row.purpose,
            conversation_id=row.conversation_id,
            case_id=row.case_id,
            attempts=row.attempts,
            status=row.status,
            wamid=row.wamid,
            error=row.error,
        )


class Outbox:
    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url
        self.engine = connect(url)
        self._listeners: List[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Called after rows are added in this process (the sender wakes up at once)."""
        self._listeners.append(listener)

    def enqueue(
        self,
        bodies: Sequence[Dict[str, Any]],
        *,
        purpose: str,
        conversation_id: Optional[str] = None,
        case_id: Optional[int] = None,
        fallback: Optional[Dict[str, Any]] = None,
        conn: Optional[sa.engine.Connection] = None,
        key: Optional[str] = None,
        recipient: Optional[str] = None,
    ) -> List[int]:
        """Adds messages (already within limits, see `outbound`) in order and returns the ids
        of those added. A message whose dedupe key is already there is not added again: the
        key is `key` with the message's position, or derived from the inbound message being
        handled (`handling`). Pass `conn` to write in the caller's transaction."""
        purpose = Purpose(purpose)  # ValueError for an unknown one
        now = utcnow()
        rows = [
            dict(
                recipient=body.get("to") or recipient,
                body=json.dumps(body, ensure_ascii=False),
                fallback=json.dumps(fallback, ensure_ascii=False) if fallback else None,
                purpose=purpose,
                conversation_id=conversation_id,
                case_id=case_id,
                status=SendStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                used_template=False,
                dedupe_key=f"{key}:{n}" if key else _next_key(),
            )
            for n, body in enumerate(bodies)
        ]
        if conn is None:
            with self.engine.begin() as own:
                ids = self._insert(own, rows)
        else:
            ids = self._insert(conn, rows)
        for listener in self._listeners:
            listener()
        return ids

    def _insert(self, conn, rows: List[Dict[str, Any]]) -> List[int]:
        ids = []
        for row in rows:
            statement = insert(self.engine, outbox).values(**row)
            if row["dedupe_key"]:
                statement = statement.on_conflict_do_nothing(index_elements=[outbox.c.dedupe_key])
            result = conn.execute(statement)
            if result.rowcount:
                ids.append(result.inserted_primary_key[0])
        if ids:
            pg_notify.notify(conn, pg_notify.OUTBOX)  # the workers of every replica look at once
        return ids

    def claim(self, worker: str, limit: int = 50) -> List[Outgoing]:
        """Due rows whose recipient has nothing older still unsent, marked as this worker's."""
        now = utcnow()
        due = sa.or_(
            sa.and_(outbox.c.status == SendStatus.PENDING, outbox.c.next_attempt_at <= now),
            sa.and_(outbox.c.status == SendStatus.SENDING, outbox.c.claimed_at < now - STALE_CLAIM),
        )
        rows = claim_in_order(
            self.engine,
            outbox,
            key="recipient",
            unsettled=lambda t: t.c.status.in_((SendStatus.PENDING, SendStatus.SENDING)),
            due=due,
            values=dict(status=SendStatus.SENDING, claimed_by=worker, claimed_at=now),
            limit=limit,
        )
        return [Outgoing.from_row(r) for r in rows]

    def sent(self, row_id: int, wamid: str, used_template: bool) -> None:
        self._update(
            row_id,
            None,
            status=SendStatus.SENT,
            wamid=wamid or None,  # a read mark has none
            sent_at=utcnow(),
            used_template=used_template,
            attempts=outbox.c.attempts + 1,
            error=None,
        )

    def retry(self, row_id: int, error: str, delay: float, owner: Optional[str] = None) -> bool:
        return self._update(
            row_id,
            owner,
            status=SendStatus.PENDING,
            error=error,
            attempts=outbox.c.attempts + 1,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            claimed_by=None,
        )

    def release(self, row_ids: Sequence[int]) -> None:
        """Gives claimed rows back, unsent (they wait behind an earlier one being retried)."""
        if row_ids:
            with self.engine.begin() as conn:
                conn.execute(
                    outbox.update().where(outbox.c.id.in_(row_ids)).values(status=SendStatus.PENDING, claimed_by=None)
                )

    def failed(self, row_id: int, error: str, owner: Optional[str] = None) -> bool:
        return self._update(row_id, owner, status=SendStatus.FAILED, error=error, attempts=outbox.c.attempts + 1)

    def delivery(self, wamid: str, status: str, error: Optional[str] = None) -> Optional[Outgoing]:
        """Writes a webhook status onto the message it is about; None for unknown ids."""
        values: Dict[str, Any] = {"delivery": status}
        if error:
            values["error"] = error
        with self.engine.begin() as conn:
            if not conn.execute(outbox.update().where(outbox.c.wamid == wamid).values(**values)).rowcount:
                return None
            row = conn.execute(sa.select(outbox).where(outbox.c.wamid == wamid)).first()
        return Outgoing.from_row(row)

    def case_for_message(self, wamid: str) -> Optional[int]:
        """The case a sent message (e.g. a notification an agent replies to) was about."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(outbox.c.case_id).where(outbox.c.wamid == wamid)).scalar()

    def words_of(self, wamid: str) -> Optional[str]:
        """The words of a message Posta sent (its text, caption or interactive body)."""
        with self.engine.connect() as conn:
            body = conn.execute(sa.select(outbox.c.body).where(outbox.c.wamid == wamid)).scalar()
        if not body:
            return None
        sent = json.loads(body)
        content = sent.get(sent.get("type")) or {}
        words = content.get("body")  # text: a string; interactive: {"text": ...}
        return (words.get("text") if isinstance(words, dict) else words) or content.get("caption")

    def relayed_from(self, wamid: Optional[str], sender: str) -> Optional[str]:
        """The message of `sender` that the sent message `wamid` relays: what a reply to,
        or a reaction on, one side's copy quotes on the other side. Rows are keyed by the
        message being handled when they were queued (`handling`), and the inbox says who
        wrote it."""
        if not wamid:
            return None
        with self.engine.connect() as conn:
            key = conn.execute(sa.select(outbox.c.dedupe_key).where(outbox.c.wamid == wamid)).scalar()
            if not key or ":" not in key:
                return None
            message_id = key.rsplit(":", 1)[0]
            wrote = conn.execute(
                sa.select(inbox.c.id).where(inbox.c.message_id == message_id, inbox.c.sender == sender)
            ).first()
        return message_id if wrote else None

    def offered(self, recipient: str, choice_id: str, recent: int = 20) -> bool:
        """Whether one of the bot's last `recent` messages to `recipient` offered the button
        or list row `choice_id` (a reply carrying anything else is not one of ours)."""
        query = (
            sa.select(outbox.c.body)
            .where(outbox.c.recipient == recipient, outbox.c.purpose == Purpose.REPLY)
            .order_by(outbox.c.id.desc())
            .limit(recent)
        )
        with self.engine.connect() as conn:
            bodies = [json.loads(body) for (body,) in conn.execute(query)]
        return any(choice_id in outbound.choice_ids(body) for body in bodies)

    def rows(self, recipient: Optional[str] = None) -> List[Outgoing]:
        query = sa.select(outbox).order_by(outbox.c.id)
        if recipient:
            query = query.where(outbox.c.recipient == recipient)
        with self.engine.connect() as conn:
            return [Outgoing.from_row(r) for r in conn.execute(query)]

    def _update(self, row_id: int, owner: Optional[str], **values: Any) -> bool:
        """Updates a row; with `owner`, only while that sender still holds its claim: a sender
        whose call outlived its claim must not undo what the sender that took over did
        (putting a sent message back in the queue would send it twice)."""
        query = outbox.update().where(outbox.c.id == row_id)
        if owner:
            query = query.where(outbox.c.status == SendStatus.SENDING, outbox.c.claimed_by == owner)
        with self.engine.begin() as conn:
            return bool(conn.execute(query.values(**values)).rowcount)


FailureHandler = Callable[[Outgoing, str], Awaitable[None]]


class Sender:
    """Sends the outbox: woken at once by writes in its own process, and every `poll`
    seconds for rows other processes wrote (the Rasa server, the action server)."""

    def __init__(
        self,
        outbox_: Outbox,
        client: GraphClient,
        contacts: Contacts,
        on_failure: Optional[FailureHandler] = None,
        poll: float = 0.25,
        media: Optional[MediaStore] = None,
    ) -> None:
        self.outbox, self.client, self.contacts = outbox_, client, contacts
        self.on_failure = on_failure
        self.media = media or MediaStore(outbox_.url)  # the media it sends are in the same database
        self.worker = uuid.uuid4().hex
        self.loop = WorkLoop("outbox", poll)
        outbox_.on_enqueue(self.wake)

    def wake(self) -> None:
        self.loop.wake()

    async def run(self) -> None:
        """Claims what is due and sends it, one task per recipient, without waiting for one
        recipient's sends before claiming another's (a slow phone must not hold up the rest).
        A recipient's next message is claimed only once its earlier ones are settled."""
        await self.loop.run(lambda _room: self.outbox.claim(self.worker), self._per_recipient)

    def _per_recipient(self, batch: Sequence[Outgoing]) -> List[Awaitable[None]]:
        by_recipient: Dict[str, List[Outgoing]] = {}
        for row in batch:
            by_recipient.setdefault(row.recipient, []).append(row)
        return [self._send_in_order(rows) for rows in by_recipient.values()]

    def stop(self) -> None:
        self.loop.stop()

    async def drain(self, timeout: float = 10.0) -> None:
        """Lets the sends under way finish (after `stop`)."""
        await self.loop.drain(timeout)

    async def _send_in_order(self, rows: List[Outgoing]) -> None:
        for index, row in enumerate(rows):
            try:
                settled = await self._send(row)
            except Exception:  # never leave a row claimed forever: it is reclaimed when stale
                logger.exception("outbox %s: unexpected error while sending", row.id)
                settled = False
            if not settled:  # the rest waits behind it, in order
                await asyncio.to_thread(self.outbox.release, [r.id for r in rows[index + 1 :]])
                break

    async def _send(self, row: Outgoing) -> bool:
        """True when the row is settled (sent or given up), False when it will be retried."""
        body, templated = row.body, False
        if row.purpose not in (Purpose.REPLY, Purpose.RECEIPT) and body.get("type") != "template":
            open_ = await asyncio.to_thread(self.contacts.window_open, row.recipient)
            if not open_:
                if row.fallback is None and row.purpose in TO_AGENTS:
                    # The agent was notified with a template; what they missed stays in the
                    # case thread and reaches them when they write (take, cases).
                    logger.info("outbox %s: %s has not written in 24 h; not sent", row.id, mask_phone(row.recipient))
                    await asyncio.to_thread(self.outbox.failed, row.id, "skipped: 24-hour window closed", self.worker)
                    return True
                if row.fallback is None:
                    await self._give_up(row, "outside the 24-hour window and no template configured")
                    return True
                logger.info(
                    "outbox %s: 24-hour window closed for %s, sending template %s instead",
                    row.id,
                    mask_phone(row.recipient),
                    row.fallback.get("template", {}).get("name"),
                )
                body, templated = row.fallback, True
        return await self._attempt(row, body, templated)

    async def _attempt(self, row: Outgoing, body: Dict[str, Any], templated: bool) -> bool:
        try:
            wamid = await self.client.send(await self._uploaded(body))
        except GraphError as error:
            if error.window_closed and row.fallback and not templated:
                logger.info("outbox %s: Meta says the 24-hour window is closed; sending the template", row.id)
                return await self._attempt(row, row.fallback, True)
            if error.retryable and row.attempts + 1 < MAX_ATTEMPTS:
                delay = backoff.pause(row.attempts, FIRST_RETRY, MAX_RETRY) * random.uniform(0.8, 1.2)
                logger.warning("outbox %s: %s; retry %d in %.1f s", row.id, error, row.attempts + 1, delay)
                await asyncio.to_thread(self.outbox.retry, row.id, str(error), delay, self.worker)
                return False
            await self._give_up(row, str(error))
            return True
        await self._mark_sent(row, wamid, templated)
        return True

    async def _uploaded(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """A body that sends kept media, by the id of its upload to the business number
        (uploaded once: Meta keeps an upload for 30 days)."""
        kind = body.get("type")
        content = body.get(kind)
        if not isinstance(content, dict) or "posta_media" not in content:
            return body
        stored = await asyncio.to_thread(self.media.get, content["posta_media"], True)
        if stored is None:
            raise GraphError("the media was erased before it could be sent", status=410)
        uploaded = stored.uploaded_id if stored.uploaded_at and utcnow() - stored.uploaded_at < UPLOAD_KEPT else None
        if uploaded is None:
            uploaded = await self.client.upload(stored.content, stored.mime_type, stored.filename)
            await asyncio.to_thread(self.media.uploaded, stored.id, uploaded)
        sendable = {k: v for k, v in content.items() if k != "posta_media"}
        return {**body, kind: {**sendable, "id": uploaded}}

    async def _mark_sent(self, row: Outgoing, wamid: str, templated: bool) -> None:
        """Meta has it: record that, waiting out a database restart rather than sending
        it again (a resend would reach the customer twice)."""
        for pause in backoff.pauses(first=0.5, most=10.0):
            try:
                await asyncio.to_thread(self.outbox.sent, row.id, wamid, templated)
                return
            except Exception:
                logger.warning("outbox %s: sent, but could not record it yet; trying again", row.id)
                await asyncio.sleep(pause)

    async def _give_up(self, row: Outgoing, error: str) -> None:
        logger.error("outbox %s: could not send to %s (%s): %s", row.id, mask_phone(row.recipient), row.purpose, error)
        if not await asyncio.to_thread(self.outbox.failed, row.id, error, self.worker):
            return  # another sender took the row over meanwhile; it decides
        if row.purpose == Purpose.RECEIPT:
            return  # a read mark that did not arrive is nobody's task
        if self.on_failure:
            await self.on_failure(row, error)
