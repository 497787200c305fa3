"""Cases in SQL, next to Rasa's tracker store, in the same database.

SQLite file by default (`sqlite:///posta.db`), PostgreSQL when `POSTA_DATABASE_URL` says
so. Every fact about a case lives here — nothing only in a process's memory — so a
restart or a second replica sees the same cases. At most one case per conversation is
open at a time; a unique partial index makes that hold even for two replicas racing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from posta.summary import CaseSummary

DEFAULT_URL = "sqlite:///posta.db"
OPEN_STATUSES = ("waiting", "assigned", "active")


def database_url() -> str:
    """The one database URL every process uses: `POSTA_DATABASE_URL`, else a local file."""
    return os.environ.get("POSTA_DATABASE_URL", "").strip() or DEFAULT_URL


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the case store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


metadata = sa.MetaData()

cases = sa.Table(
    "posta_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),  # waiting, assigned, active, closed
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("after_hours", sa.Boolean, nullable=False, default=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("customer_name", sa.String(255)),
    sa.Column("team", sa.String(64)),
    sa.Column("agent", sa.String(255)),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("assigned_at", UTCDateTime),
    sa.Column("taken_at", UTCDateTime),
    sa.Column("first_reply_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("closed_by", sa.String(255)),
)
sa.Index(
    "posta_one_open_case_per_conversation",
    cases.c.conversation_id,
    unique=True,
    sqlite_where=cases.c.status != "closed",
    postgresql_where=cases.c.status != "closed",
)

case_events = sa.Table(
    "posta_case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("posta_cases.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # created, routed, taken, handed_back, note ...
    sa.Column("actor", sa.String(255)),
    sa.Column("detail", sa.Text),
)


@dataclass(frozen=True)
class Case:
    id: int
    conversation_id: str
    status: str
    reason: str
    topic: str
    urgent: bool
    after_hours: bool
    language: str
    customer_name: Optional[str]
    team: Optional[str]
    agent: Optional[str]
    summary: CaseSummary
    created_at: datetime
    assigned_at: Optional[datetime]
    taken_at: Optional[datetime]
    first_reply_at: Optional[datetime]
    closed_at: Optional[datetime]
    closed_by: Optional[str]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def from_row(cls, row) -> "Case":
        data = dict(row._mapping)
        data["summary"] = CaseSummary.from_dict(json.loads(data["summary"]))
        return cls(**data)


@dataclass(frozen=True)
class CaseEvent:
    case_id: int
    at: datetime
    kind: str
    actor: Optional[str]
    detail: Optional[str]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=None)
def engine_for(url: str) -> Engine:
    """One engine (and pool) per URL and process; SQLite waits for locks instead of failing."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class CaseStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = engine_for(url or database_url())
        metadata.create_all(self.engine)

    # -- reading -----------------------------------------------------------------------

    def get(self, case_id: int) -> Optional[Case]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).first()
        return Case.from_row(row) if row else None

    def open_case_for(self, conversation_id: str) -> Optional[Case]:
        query = sa.select(cases).where(
            cases.c.conversation_id == conversation_id, cases.c.status.in_(OPEN_STATUSES))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Case.from_row(row) if row else None

    def cases(self, status: Optional[str] = None, conversation_id: Optional[str] = None) -> List[Case]:
        query = sa.select(cases).order_by(cases.c.id)
        if status:
            query = query.where(cases.c.status == status)
        if conversation_id:
            query = query.where(cases.c.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            return [Case.from_row(row) for row in conn.execute(query)]

    def history(self, case_id: int) -> List[CaseEvent]:
        query = sa.select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        with self.engine.connect() as conn:
            return [CaseEvent(r.case_id, r.at, r.kind, r.actor, r.detail) for r in conn.execute(query)]

    def load_by_agent(self) -> Dict[str, int]:
        """How many open cases each agent holds."""
        query = (sa.select(cases.c.agent, sa.func.count()).where(
            cases.c.status.in_(OPEN_STATUSES), cases.c.agent.isnot(None)).group_by(cases.c.agent))
        with self.engine.connect() as conn:
            return {agent: count for agent, count in conn.execute(query)}

    def last_assignment_by_agent(self) -> Dict[str, datetime]:
        query = sa.select(cases.c.agent, sa.func.max(cases.c.assigned_at)).where(
            cases.c.agent.isnot(None)).group_by(cases.c.agent)
        with self.engine.connect() as conn:
            return {agent: UTCDateTime().process_result_value(at, None) for agent, at in conn.execute(query)}

    # -- writing -----------------------------------------------------------------------

    def open_case(self, summary: CaseSummary, *, team: Optional[str], agent: Optional[str] = None) -> Case:
        """Opens the conversation's case, or returns the one already open (a retried action
        must not open two)."""
        now = utcnow()
        values = dict(
            conversation_id=summary.conversation_id,
            status="assigned" if agent else "waiting",
            reason=summary.reason,
            topic=summary.topic,
            urgent=summary.urgent,
            after_hours=summary.after_hours,
            language=summary.language,
            customer_name=summary.customer_name,
            team=team,
            agent=agent,
            summary=json.dumps(summary.as_dict(), ensure_ascii=False),
            created_at=now,
            assigned_at=now if agent else None,
        )
        try:
            with self.engine.begin() as conn:
                case_id = conn.execute(cases.insert().values(**values)).inserted_primary_key[0]
                self._record(conn, case_id, "created", None, summary.reason)
                self._record(conn, case_id, "routed", None, agent or f"queue:{team}")
        except sa.exc.IntegrityError:
            existing = self.open_case_for(summary.conversation_id)
            if existing is None:
                raise
            return existing
        return self.get(case_id)

    def close(self, conversation_id: str, by: Optional[str] = None) -> Optional[Case]:
        """Closes the conversation's open case (handback); None if there was none."""
        case = self.open_case_for(conversation_id)
        if case is None:
            return None
        with self.engine.begin() as conn:
            conn.execute(cases.update().where(cases.c.id == case.id).values(
                status="closed", closed_at=utcnow(), closed_by=by))
            self._record(conn, case.id, "handed_back", by, None)
        return self.get(case.id)

    def record(self, case_id: int, kind: str, actor: Optional[str] = None, detail: Optional[Any] = None) -> None:
        with self.engine.begin() as conn:
            self._record(conn, case_id, kind, actor, detail)

    @staticmethod
    def _record(conn, case_id: int, kind: str, actor: Optional[str], detail: Optional[Any]) -> None:
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False)
        conn.execute(case_events.insert().values(case_id=case_id, at=utcnow(), kind=kind,
                                                 actor=actor, detail=detail))
