"""Cases in SQL, next to Rasa's tracker store, in the same database.

SQLite file by default (`sqlite:///posta.db`), PostgreSQL when `POSTA_DATABASE_URL` says
so. Every fact about a case lives here — nothing only in a process's memory — so a
restart or a second replica sees the same cases. At most one case per conversation is
open at a time; a unique partial index makes that hold even for two replicas racing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from posta.db import connect, utcnow
from posta.schema import UTCDateTime, case_events, cases
from posta.states import OPEN_STATUSES, CaseEventKind, CaseStatus
from posta.summary import CaseSummary


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
    channel: Optional[str]
    team: Optional[str]
    agent: Optional[str]
    summary: CaseSummary
    created_at: datetime
    assigned_at: Optional[datetime]
    taken_at: Optional[datetime]
    first_reply_at: Optional[datetime]
    closed_at: Optional[datetime]
    closed_by: Optional[str]
    rating: Optional[int] = None  # 1 bad, 2 okay, 3 good (posta.ratings)
    rated_at: Optional[datetime] = None
    judgment: Optional[str] = None  # needed, bot, other (posta.judgments)
    judged_topic: Optional[str] = None
    judged_by: Optional[str] = None
    judged_at: Optional[datetime] = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def who(self) -> str:
        """The customer as people see them: their name, else their number."""
        return self.customer_name or self.conversation_id

    @classmethod
    def from_row(cls, row) -> "Case":
        data = dict(row._mapping)
        data["summary"] = CaseSummary.from_dict(json.loads(data["summary"]))
        return cls(**data)


class CaseUnavailable(Exception):
    """The case is closed, or another agent has it."""

    def __init__(self, case: Optional["Case"]) -> None:
        super().__init__(f"case {case.id if case else '?'} is not available")
        self.case = case


@dataclass(frozen=True)
class CaseEvent:
    case_id: int
    at: datetime
    kind: str
    actor: Optional[str]
    detail: Optional[str]


class CaseStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    # -- reading -----------------------------------------------------------------------

    def get(self, case_id: int) -> Optional[Case]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).first()
        return Case.from_row(row) if row else None

    def open_case_for(self, conversation_id: str) -> Optional[Case]:
        query = sa.select(cases).where(cases.c.conversation_id == conversation_id, cases.c.status.in_(OPEN_STATUSES))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Case.from_row(row) if row else None

    def cases(
        self,
        *,
        open_only: bool = False,
        status: Optional[str] = None,
        conversation_id: Optional[str] = None,
        agent: Optional[str] = None,
        team: Optional[str] = None,
    ) -> List[Case]:
        """Cases matching every filter given; open ones come urgent first, then oldest first."""
        query = sa.select(cases)
        for column, value in (
            (cases.c.status, status),
            (cases.c.conversation_id, conversation_id),
            (cases.c.agent, agent),
            (cases.c.team, team),
        ):
            if value:
                query = query.where(column == value)
        if open_only:
            query = query.where(cases.c.status.in_(OPEN_STATUSES)).order_by(cases.c.urgent.desc(), cases.c.created_at)
        else:
            query = query.order_by(cases.c.id)
        with self.engine.connect() as conn:
            return [Case.from_row(row) for row in conn.execute(query)]

    def created_between(self, start: datetime, end: datetime) -> List[Case]:
        query = sa.select(cases).where(cases.c.created_at >= start, cases.c.created_at < end).order_by(cases.c.id)
        with self.engine.connect() as conn:
            return [Case.from_row(row) for row in conn.execute(query)]

    def recent_waits(self, team: str, most: int = 20) -> List[float]:
        """Seconds from opening to a person taking it, for the team's latest taken cases."""
        query = (
            sa.select(cases.c.created_at, cases.c.taken_at)
            .where(cases.c.team == team, cases.c.taken_at.isnot(None))
            .order_by(cases.c.taken_at.desc())
            .limit(most)
        )
        with self.engine.connect() as conn:
            return [(taken - created).total_seconds() for created, taken in conn.execute(query)]

    def open_cases(self, **filters: Optional[str]) -> List[Case]:
        return self.cases(open_only=True, **filters)

    def history(self, case_id: int) -> List[CaseEvent]:
        query = sa.select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        with self.engine.connect() as conn:
            return [CaseEvent(r.case_id, r.at, r.kind, r.actor, r.detail) for r in conn.execute(query)]

    def load_by_agent(self) -> Dict[str, int]:
        """How many open cases each agent holds."""
        query = (
            sa.select(cases.c.agent, sa.func.count())
            .where(cases.c.status.in_(OPEN_STATUSES), cases.c.agent.isnot(None))
            .group_by(cases.c.agent)
        )
        with self.engine.connect() as conn:
            return {agent: count for agent, count in conn.execute(query)}

    def last_assignment_by_agent(self) -> Dict[str, datetime]:
        query = (
            sa.select(cases.c.agent, sa.func.max(cases.c.assigned_at))
            .where(cases.c.agent.isnot(None))
            .group_by(cases.c.agent)
        )
        with self.engine.connect() as conn:
            return {agent: UTCDateTime().process_result_value(at, None) for agent, at in conn.execute(query)}

    # -- writing -----------------------------------------------------------------------

    def open_case(
        self,
        summary: CaseSummary,
        *,
        team: Optional[str],
        agent: Optional[str] = None,
        channel: Optional[str] = None,
        status: Optional[str] = None,
    ) -> Case:
        """Opens the conversation's case, or returns the one already open (a retried action
        must not open two)."""
        now = utcnow()
        values = dict(
            conversation_id=summary.conversation_id,
            status=status or (CaseStatus.ASSIGNED if agent else CaseStatus.WAITING),
            reason=summary.reason,
            topic=summary.topic,
            urgent=summary.urgent,
            after_hours=summary.after_hours,
            language=summary.language,
            customer_name=summary.customer_name,
            channel=channel,
            team=team,
            agent=agent,
            summary=json.dumps(summary.as_dict(), ensure_ascii=False),
            created_at=now,
            assigned_at=now,  # when it was routed, to an agent or to the queue
            taken_at=now if status == CaseStatus.ACTIVE else None,
        )
        try:
            with self.engine.begin() as conn:
                case_id = conn.execute(cases.insert().values(**values)).inserted_primary_key[0]
                self._record(conn, case_id, CaseEventKind.CREATED, None, summary.reason)
                self._record(conn, case_id, CaseEventKind.ROUTED, None, agent or f"queue:{team}")
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
            conn.execute(
                cases.update()
                .where(cases.c.id == case.id)
                .values(status=CaseStatus.CLOSED, closed_at=utcnow(), closed_by=by)
            )
            self._record(conn, case.id, CaseEventKind.HANDED_BACK, by, None)
        return self.get(case.id)

    def rate(self, case_id: int, rating: int) -> bool:
        """Stores the customer's rating of a closed case, once: False if it has one."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    cases.update()
                    .where(cases.c.id == case_id, cases.c.status == CaseStatus.CLOSED, cases.c.rating.is_(None))
                    .values(rating=rating, rated_at=utcnow())
                ).rowcount
            )

    def judge(self, case_id: int, judgment: str, topic: Optional[str], by: str) -> bool:
        """Stores whether a person was needed, once (a topic may follow a "bot" judgment)."""
        with self.engine.begin() as conn:
            unjudged = sa.or_(
                cases.c.judgment.is_(None), sa.and_(cases.c.judgment == judgment, cases.c.judged_topic.is_(None))
            )
            return bool(
                conn.execute(
                    cases.update()
                    .where(cases.c.id == case_id, cases.c.status == CaseStatus.CLOSED, unjudged)
                    .values(judgment=judgment, judged_topic=topic, judged_by=by, judged_at=utcnow())
                ).rowcount
            )

    def take(self, case_id: int, agent: str) -> Case:
        """The agent takes the case. Raises CaseUnavailable if it is closed or someone else has it."""
        now = utcnow()
        with self.engine.begin() as conn:
            taken = conn.execute(
                cases.update()
                .where(
                    cases.c.id == case_id,
                    sa.or_(
                        cases.c.status.in_((CaseStatus.WAITING, CaseStatus.ASSIGNED)),
                        sa.and_(cases.c.status == CaseStatus.ACTIVE, cases.c.agent == agent),
                    ),
                )
                .values(
                    status=CaseStatus.ACTIVE,
                    agent=agent,
                    taken_at=sa.func.coalesce(cases.c.taken_at, now),
                    assigned_at=sa.func.coalesce(cases.c.assigned_at, now),
                )
            ).rowcount
            if taken:
                self._record(conn, case_id, CaseEventKind.TAKEN, agent, None)
        case = self.get(case_id)
        if not taken:
            raise CaseUnavailable(case)
        return case

    def reassign(self, case_id: int, *, team: str, agent: Optional[str], by: Optional[str], kind: str) -> Case:
        """Moves an open case to another agent or to a team's queue (pass, transfer)."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                cases.update()
                .where(cases.c.id == case_id, cases.c.status.in_(OPEN_STATUSES))
                .values(
                    team=team,
                    agent=agent,
                    status=CaseStatus.ASSIGNED if agent else CaseStatus.WAITING,
                    taken_at=None,
                    assigned_at=utcnow(),
                )
            ).rowcount
            if moved:
                self._record(conn, case_id, kind, by, agent or f"queue:{team}")
        case = self.get(case_id)
        if not moved:
            raise CaseUnavailable(case)
        return case

    def first_reply(self, case_id: int) -> None:
        """Marks when a person first wrote to the customer (kept if already set)."""
        with self.engine.begin() as conn:
            conn.execute(
                cases.update()
                .where(cases.c.id == case_id, cases.c.first_reply_at.is_(None))
                .values(first_reply_at=utcnow())
            )

    def latest_case_for(self, conversation_id: str) -> Optional[Case]:
        query = sa.select(cases).where(cases.c.conversation_id == conversation_id).order_by(cases.c.id.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Case.from_row(row) if row else None

    def record(self, case_id: int, kind: str, actor: Optional[str] = None, detail: Optional[Any] = None) -> None:
        with self.engine.begin() as conn:
            self._record(conn, case_id, kind, actor, detail)

    @staticmethod
    def _record(conn, case_id: int, kind: str, actor: Optional[str], detail: Optional[Any]) -> None:
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False)
        conn.execute(case_events.insert().values(case_id=case_id, at=utcnow(), kind=kind, actor=actor, detail=detail))
