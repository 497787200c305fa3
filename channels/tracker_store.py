"""Rasa's SQL tracker store, pointed at the same database as the handoff cases.

Rasa's endpoints file cannot default an environment variable, so this thin subclass
reads `POSTA_DATABASE_URL` (the same variable the core and the action server read) and
falls back to the local SQLite file. One URL, one database, for every process.
"""

from typing import Any, Optional

from rasa.core.tracker_store import SQLTrackerStore

from posta.db import database_url


class PostaTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, host: Optional[str] = None, event_broker=None, **kwargs: Any) -> None:
        super().__init__(domain=domain, host=host or database_url(), event_broker=event_broker, **kwargs)
