"""Rasa's SQL tracker store, on Posta's database, and as fast on turn 300 as on turn 3.

Rasa's endpoints file cannot default an environment variable, so this subclass reads
`POSTA_DATABASE_URL` (the variable the core and the action server read) and falls back
to the local SQLite file.

A WhatsApp conversation is long-lived (the sender id is the phone number), and Rasa 3.6
does work proportional to the current session on every message: it reads and replays
every event, and the policies featurize the whole history several times per turn.
Measured on this machine, that took the median reply from ~23 ms on the first turns to
~100 ms by turn 300. Four changes keep it flat:

- Pooling: it shares the core's engine, which keeps connections open.
- Off the event loop: Rasa's SQL store talks to the database inside its coroutines, so
  every round trip to PostgreSQL (and every commit's wait for the disk) stalls all other
  messages of the process; here the reads and writes run in a thread.
- Reading: rows come back as plain `data` strings and each event's class comes from a
  table built once (Rasa walks every `Event` subclass per event, and builds an ORM object
  per row).
- Rolling over: once a session holds `ROLLOVER_AFTER` events and the bot is at rest
  (listening, or paused while a person talks), the store appends a new session start
  carrying every slot and the pause. Rasa then reads and featurizes only that short
  session; the older events stay in the table, and summaries and the panel read them
  all (`posta.rasa_events.load`). The marker keeps summaries from mistaking it for a
  new conversation.
"""

import asyncio
import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Type

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationPaused, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses
from sqlalchemy.orm import sessionmaker

from posta.db import connect, database_url
from posta.rasa_events import ROLLOVER

ROLLOVER_AFTER = 200  # events in a session (about 40 turns)


@lru_cache(maxsize=1)
def event_classes() -> Dict[str, Type[Event]]:
    """type name -> class, first one wins (as in `Event.resolve_by_type`)."""
    classes: Dict[str, Type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def deserialise(data: str) -> Optional[Event]:
    parameters = json.loads(data)
    cls = event_classes().get(parameters.get("event"))
    return cls._from_parameters(parameters) if cls else Event.from_parameters(parameters)


class PostaTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, host: Optional[str] = None, event_broker=None, **kwargs: Any) -> None:
        url = host or database_url()
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        # One database, one connection pool per process, shared with the core (Rasa's own
        # engine has no pool on SQLite: a new connection for every read and write).
        self.engine.dispose()
        self.engine = connect(url)
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        rows = await asyncio.to_thread(self._read, sender_id, fetch_events_from_all_sessions)
        events = [event for event in (deserialise(data) for (data,) in rows) if event is not None]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        if len(tracker.events) >= ROLLOVER_AFTER and _at_rest(tracker):
            for event in _rollover_events(tracker):
                tracker.update(event)
        await asyncio.to_thread(self._write, tracker)

    def _read(self, sender_id: str, fetch_events_from_all_sessions: bool) -> List[Any]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            return query.with_entities(self.SQLEvent.data).all()

    def _write(self, tracker: DialogueStateTracker) -> None:
        """Appends the events the table does not have yet (as Rasa's `save` does)."""
        with self.session_scope() as session:
            for event in list(self._additional_events(session, tracker)):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()


def _at_rest(tracker: DialogueStateTracker) -> bool:
    return tracker.active_loop_name is None and (
        tracker.is_paused() or tracker.latest_action_name == ACTION_LISTEN_NAME
    )


def _rollover_events(tracker: DialogueStateTracker) -> List[Event]:
    """A session start, then the state it would reset: every slot, and the pause.

    Made in that order on purpose: Rasa reads a session back by timestamp from its start,
    so nothing of it may be older than the start itself."""
    values = {
        name: value
        for name, value in tracker.current_slot_values().items()
        if value is not None and name != "session_started_metadata"
    }
    paused = tracker.is_paused()
    start = SessionStarted(metadata={ROLLOVER: True})
    slots = [SlotSet(name, value) for name, value in values.items()]
    return [start, *slots, ConversationPaused() if paused else ActionExecuted(ACTION_LISTEN_NAME)]
