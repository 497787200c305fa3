"""Everything Posta knows about Rasa's events: their JSON shapes and every query on the
`events` table the tracker store keeps in Posta's database. Nothing else reads that table
or looks inside an event's dictionary, so a change in Rasa's format is met here alone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

Event = Dict[str, Any]
T = TypeVar("T")

# Text Rasa gives an external event (`POST .../trigger_intent`) it logs as a user message.
EXTERNAL_PREFIX = "EXTERNAL: "
HANDOFF_ACTION = "action_handoff"
HANDBACK_ACTION = "action_handback"
# Marks a session the tracker store started only to keep long conversations fast
# (channels.tracker_store); it is not a new conversation.
ROLLOVER = "posta_rollover"
# Responses that are not an answer to the customer's question.
NOT_ANSWERS = ("utter_handoff", "utter_ask_", "utter_after_hours")


# --- the events table -----------------------------------------------------------------


def _before_first_write(read: Callable[[], T], empty: T) -> T:
    """Rasa creates `events` on its first write; before that there is nothing to read
    (SQLite says OperationalError, PostgreSQL ProgrammingError)."""
    try:
        return read()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return empty


def load(engine: Engine, conversation_id: str) -> List[Event]:
    """Every event of a conversation, every session, oldest first."""
    query = sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id")

    def read() -> List[Event]:
        with engine.connect() as conn:
            return [json.loads(data) for (data,) in conn.execute(query, {"sender": conversation_id})]

    return _before_first_write(read, [])


def has_message(engine: Engine, conversation_id: str, message_id: str) -> bool:
    """Whether Rasa already logged this inbound message (so handling it again would double it).
    The LIKE only narrows the rows; the match is on the parsed metadata."""
    query = sa.text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' AND data LIKE :pattern")
    # As Rasa's JSON spells it, whatever the spacing; LIKE's wildcards (and a backslash, an
    # escape character in PostgreSQL's LIKE) may only widen the narrowing.
    pattern = "%" + json.dumps(message_id)[1:-1].replace("\\", "_") + "%"

    def read() -> bool:
        with engine.connect() as conn:
            rows = conn.execute(query, {"sender": conversation_id, "pattern": pattern})
            return any(metadata(json.loads(data)).get("message_id") == message_id for (data,) in rows)

    return _before_first_write(read, False)


def latest_message_id(events: Sequence[Event]) -> Optional[str]:
    """The WhatsApp id of the customer's latest message (what a read mark marks, with every
    message before it)."""
    for event in reversed(events):
        if is_customer_message(event) and metadata(event).get("message_id"):
            return str(metadata(event)["message_id"])
    return None


def erase(conn: Connection, conversation_id: str) -> int:
    """Deletes a conversation's events in the caller's transaction; returns how many."""
    if not sa.inspect(conn).has_table("events"):
        return 0
    return conn.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": conversation_id}).rowcount


def quiet_since(engine: Engine, cutoff: datetime, after: Optional[datetime] = None) -> List[str]:
    """Conversations whose last event is older than `cutoff` (and newer than `after`)."""
    return list(last_events(engine, cutoff, after))


def last_events(engine: Engine, cutoff: datetime, after: Optional[datetime] = None) -> Dict[str, float]:
    """The time of the last event of each conversation quiet since `cutoff` (and not since `after`)."""
    query = sa.text(
        "SELECT sender_id, MAX(timestamp) FROM events GROUP BY sender_id "
        "HAVING MAX(timestamp) < :cutoff AND MAX(timestamp) > :after"
    )
    bounds = {"cutoff": cutoff.timestamp(), "after": after.timestamp() if after else 0}

    def read() -> Dict[str, float]:
        with engine.connect() as conn:
            return {sender: float(last) for sender, last in conn.execute(query, bounds)}

    return _before_first_write(read, {})


def customers_who_wrote(engine: Engine, start: datetime, end: datetime) -> int:
    """How many conversations had a customer message in [start, end)."""
    query = sa.text(
        "SELECT COUNT(DISTINCT sender_id) FROM events WHERE type_name = 'user' "
        "AND timestamp >= :start AND timestamp < :end"
    )

    def read() -> int:
        with engine.connect() as conn:
            return int(conn.execute(query, {"start": start.timestamp(), "end": end.timestamp()}).scalar() or 0)

    return _before_first_write(read, 0)


# --- one event ------------------------------------------------------------------------


def metadata(event: Event) -> Dict[str, Any]:
    return event.get("metadata") or {}


def iso_time(event: Event) -> Optional[str]:
    """The event's time, ISO 8601 in UTC to the second."""
    timestamp = event.get("timestamp")
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat(timespec="seconds")


def is_external(event: Event) -> bool:
    """An event Posta triggered itself (`EXTERNAL: ...`), not something the customer wrote."""
    return bool(metadata(event).get("is_external")) or str(event.get("text") or "").startswith(EXTERNAL_PREFIX)


def is_customer_message(event: Event) -> bool:
    return event.get("event") == "user" and not is_external(event)


def intent(event: Event) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def response_name(event: Event) -> str:
    """The response (`utter_...`) a bot event came from, or ''."""
    return metadata(event).get("utter_action") or ""


def is_answer(event: Event) -> bool:
    """A bot message that answered the customer (not a handoff notice or a question back)."""
    return not response_name(event).startswith(NOT_ANSWERS)


def customer_text(event: Event) -> str:
    """What the customer meant: a button payload (`/intent{...}`) becomes the button's
    title, or its intent in words."""
    text = event.get("text") or ""
    if text.startswith("/"):
        return metadata(event).get("title") or text[1:].split("{", 1)[0].replace("_", " ")
    return text


def is_handback(event: Event) -> bool:
    return event.get("event") == "action" and event.get("name") == HANDBACK_ACTION


def is_new_session(event: Event) -> bool:
    """A session start that is a new conversation, not a rollover."""
    return event.get("event") == "session_started" and not metadata(event).get(ROLLOVER)


def rolled_over(events: Iterable[Event]) -> bool:
    """Whether these tracker events start after a rollover (so older ones are only stored)."""
    return any(e.get("event") == "session_started" and metadata(e).get(ROLLOVER) for e in events)


def with_history(stored: Sequence[Event], current: Sequence[Event]) -> List[Event]:
    """A tracker's events (`current`, possibly not saved yet) after the stored events that
    came before them."""
    first = next((e["timestamp"] for e in current if e.get("timestamp") is not None), None)
    return [e for e in stored if first is None or (e.get("timestamp") or 0) < first] + list(current)


def language(events: Sequence[Event], default: str) -> str:
    """The customer's language as the bot last set it (the `language` slot)."""
    return next(
        (
            e.get("value")
            for e in reversed(events)
            if e.get("event") == "slot" and e.get("name") == "language" and e.get("value")
        ),
        default,
    )


def last_response(events: Sequence[Event]) -> str:
    """The response name of the latest bot message."""
    return next((response_name(e) for e in reversed(events) if e.get("event") == "bot"), "")
