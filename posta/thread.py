"""A conversation as people read it: who said what, when, from Rasa's events.

`load_events` reads the whole conversation, every session, straight from Rasa's `events`
table (it is our database): summaries, takeovers and the panel need all of it, not only
the tail Rasa keeps in a tracker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from posta import texts
from posta.summary import EXTERNAL_PREFIX, ROLLOVER


# Rasa creates its `events` table on its first write; before that there is nothing to read
# (SQLite says OperationalError, PostgreSQL ProgrammingError).
NO_TABLE_YET = (sa.exc.OperationalError, sa.exc.ProgrammingError)


def load_events(engine: Engine, conversation_id: str) -> List[Dict[str, Any]]:
    """Every event of a conversation, oldest first (empty before Rasa's first write)."""
    query = sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id")
    try:
        with engine.connect() as conn:
            return [json.loads(data) for (data,) in conn.execute(query, {"sender": conversation_id})]
    except NO_TABLE_YET:
        return []


def has_message(engine: Engine, conversation_id: str, message_id: str) -> bool:
    """Whether Rasa already logged this inbound message (so handling it again would double it)."""
    query = sa.text("SELECT 1 FROM events WHERE sender_id = :sender AND type_name = 'user' AND data LIKE :pattern")
    try:
        with engine.connect() as conn:
            return conn.execute(query, {"sender": conversation_id,
                                        "pattern": f'%"message_id": {json.dumps(message_id)}%'}).first() is not None
    except NO_TABLE_YET:
        return False


def rolled_over(events: Iterable[Dict[str, Any]]) -> bool:
    """Whether these tracker events start after a rollover (so older ones are only stored)."""
    return any(e.get("event") == "session_started" and (e.get("metadata") or {}).get(ROLLOVER) for e in events)


def with_history(stored: List[Dict[str, Any]], current: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A tracker's events (`current`, possibly not saved yet) after the stored events that
    came before them."""
    first = next((e["timestamp"] for e in current if e.get("timestamp") is not None), None)
    return [e for e in stored if first is None or (e.get("timestamp") or 0) < first] + list(current)


@dataclass(frozen=True)
class Line:
    who: str  # customer, bot, agent
    text: str
    at: Optional[str]  # ISO 8601, UTC
    agent: Optional[str] = None  # the person's name, for agent lines

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def lines(events: Iterable[Dict[str, Any]], lang: str = "es") -> List[Line]:
    """Customer, bot and agent messages in order; media as placeholders; nothing internal."""
    result = []
    for event in events:
        kind, metadata = event.get("event"), event.get("metadata") or {}
        at = _iso(event.get("timestamp"))
        if kind == "user":
            text = event.get("text") or ""
            if metadata.get("is_external") or text.startswith(EXTERNAL_PREFIX):
                continue
            media = metadata.get("media")
            if media:
                caption = f" {media['caption']}" if media.get("caption") else ""
                text = f"[{texts.label('media', lang)}: {media.get('type')}]{caption}"
            elif text.startswith("/"):
                text = metadata.get("title") or text[1:].split("{", 1)[0].replace("_", " ")
            result.append(Line("customer", text, at))
        elif kind == "bot" and (event.get("text") or ""):
            agent = metadata.get("agent")
            result.append(Line("agent" if agent else "bot", event["text"], at, agent))
    return result


def _iso(timestamp) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat(timespec="seconds")
