"""The numbers that show the bot does not embarrass the business, over any period.

Conversations come from Rasa's tracker store (`events`: distinct customers who wrote);
everything else from the case tables and the outbox. Durations are minutes; p90 uses
linear interpolation between the two nearest cases. The team panel's reports page, its
JSON endpoint and the agents' `report` command all read `build`.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa

from posta import judgments, rasa_events, ratings, texts
from posta.config import BusinessConfig
from posta.hours import business_now
from posta.schema import outbox
from posta.states import CaseStatus, SendStatus
from posta.store import Case, CaseStore


@dataclass
class Durations:
    count: int = 0
    median: Optional[float] = None
    p90: Optional[float] = None

    @classmethod
    def of(cls, minutes: Sequence[float]) -> "Durations":
        values = sorted(minutes)
        if not values:
            return cls()
        return cls(count=len(values), median=round(statistics.median(values), 1), p90=round(_p90(values), 1))


@dataclass
class Ratings:
    """The customers' answers to "how did we do?" (1 bad, 2 okay, 3 good)."""

    rated: int = 0
    mean: Optional[float] = None
    low: int = 0

    @classmethod
    def of(cls, cases: Sequence[Case]) -> "Ratings":
        scores = [c.rating for c in cases if c.rating]
        if not scores:
            return cls()
        return cls(rated=len(scores), mean=round(statistics.mean(scores), 2), low=scores.count(1))


@dataclass
class Group:
    handoffs: int = 0
    reasons: Dict[str, int] = field(default_factory=dict)
    first_reply: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    ratings: Ratings = field(default_factory=Ratings)


@dataclass
class Report:
    start: str
    end: str
    conversations: int
    handoffs: int
    handoff_rate: Optional[float]
    reasons: Dict[str, int]
    first_reply: Durations
    resolution: Durations
    after_hours_leads: int
    after_hours_picked_up: int
    after_hours_pickup: Durations  # minutes from the opening that followed the lead
    returned_to_bot: int
    failed_sends: int
    open_now: int
    by_team: Dict[str, Group]
    by_agent: Dict[str, Group]
    ratings: Ratings = field(default_factory=Ratings)
    # Was each handoff needed? By reason: handoffs, judged, judged needed, precision.
    precision: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    judged_share: Optional[float] = None  # judged / handoffs
    # Takeovers the bot did not escalate, requests right after an answer, bot-only
    # conversations rated low.
    possible_misses: int = 0
    by_day: List[Dict[str, Any]] = field(default_factory=list)  # the trend: day, handoffs, judged, precision

    def as_dict(self) -> dict:
        return asdict(self)


def build(store: CaseStore, config: BusinessConfig, start: datetime, end: datetime) -> Report:
    """Everything about the cases opened in [start, end)."""
    period = store.created_between(start, end)
    low_ratings = ratings.BotRatings(store.engine).low_between(start, end)  # bot-only, rated low
    conversations = _conversations(store, start, end)
    after_hours = [c for c in period if c.after_hours]
    pickups = [
        _minutes(c.taken_at - max(c.created_at, config.schedule.next_opening(c.created_at) or c.created_at))
        for c in after_hours
        if c.taken_at
    ]
    return Report(
        start=start.isoformat(),
        end=end.isoformat(),
        conversations=conversations,
        handoffs=len(period),
        handoff_rate=round(len(period) / conversations, 3) if conversations else None,
        reasons=_count(c.reason for c in period),
        first_reply=Durations.of(_first_replies(period)),
        resolution=Durations.of(_resolutions(period)),
        after_hours_leads=len(after_hours),
        after_hours_picked_up=len(pickups),
        after_hours_pickup=Durations.of([max(p, 0.0) for p in pickups]),
        returned_to_bot=sum(1 for c in period if c.status == CaseStatus.CLOSED),
        failed_sends=_failed_sends(store, start, end),
        open_now=len(store.open_cases()),
        by_team=_groups(period, lambda c: c.team or "-"),
        by_agent=_groups([c for c in period if c.agent], lambda c: c.agent),
        ratings=Ratings.of(period),
        precision=judgments.precision(period),
        judged_share=round(sum(1 for c in period if c.judgment) / len(period), 3) if period else None,
        possible_misses=sum(1 for c in period if judgments.possible_miss(c)) + len(low_ratings),
        by_day=_by_day(period, low_ratings, config),
    )


def today(store: CaseStore, config: BusinessConfig) -> Report:
    now = business_now(config.timezone)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return build(store, config, start, start + timedelta(days=1))


def today_line(store: CaseStore, config: BusinessConfig, lang: str) -> str:
    """The agents' `report` command: today's numbers in one line."""
    report = today(store, config)
    reasons = ", ".join(f"{texts.label('reason_' + r, lang)} {n}" for r, n in sorted(report.reasons.items())) or "-"
    median = f"{report.first_reply.median:.0f} min" if report.first_reply.median is not None else "-"
    judged = sum(p["judged"] for p in report.precision.values())
    needed = sum(p["needed"] for p in report.precision.values())
    line = texts.desk(
        "report",
        lang,
        opened=report.handoffs,
        reasons=reasons,
        closed=report.returned_to_bot,
        waiting=len(store.open_cases(status=CaseStatus.WAITING)),
        median=median,
    )
    precision = f"{100 * needed / judged:.0f}%" if judged else "-"
    return (
        line
        + "\n"
        + texts.desk("report_judged", lang, judged=judged, precision=precision, misses=report.possible_misses)
    )


def _by_day(period: List[Case], low_ratings: List[ratings.BotRating], config: BusinessConfig) -> List[Dict[str, Any]]:
    def day_of(at: datetime) -> str:
        return at.astimezone(config.timezone).date().isoformat()

    days: Dict[str, List[Case]] = {}
    for case in period:
        days.setdefault(day_of(case.created_at), []).append(case)
    low_by_day: Dict[str, int] = {}
    for rated in low_ratings:
        low_by_day[day_of(rated.asked_at)] = low_by_day.get(day_of(rated.asked_at), 0) + 1
    trend = []
    for day in sorted(days.keys() | low_by_day.keys()):
        cases_of_day = days.get(day, [])
        judged = [c for c in cases_of_day if c.judgment]
        needed = sum(1 for c in judged if c.judgment == judgments.NEEDED)
        trend.append(
            {
                "day": day,
                "handoffs": len(cases_of_day),
                "judged": len(judged),
                "precision": round(needed / len(judged), 3) if judged else None,
                "possible_misses": sum(1 for c in cases_of_day if judgments.possible_miss(c)) + low_by_day.get(day, 0),
            }
        )
    return trend


def _groups(period: List[Case], key) -> Dict[str, Group]:
    buckets: Dict[str, List[Case]] = {}
    for case in period:
        buckets.setdefault(key(case), []).append(case)
    return {
        name: Group(
            handoffs=len(group),
            reasons=_count(c.reason for c in group),
            first_reply=Durations.of(_first_replies(group)),
            resolution=Durations.of(_resolutions(group)),
            ratings=Ratings.of(group),
        )
        for name, group in sorted(buckets.items())
    }


def _first_replies(period: List[Case]) -> List[float]:
    return [_minutes(c.first_reply_at - c.created_at) for c in period if c.first_reply_at]


def _resolutions(period: List[Case]) -> List[float]:
    return [_minutes(c.closed_at - c.created_at) for c in period if c.closed_at]


def _conversations(store: CaseStore, start: datetime, end: datetime) -> int:
    return rasa_events.customers_who_wrote(store.engine, start, end)


def _failed_sends(store: CaseStore, start: datetime, end: datetime) -> int:

    query = (
        sa.select(sa.func.count())
        .select_from(outbox)
        .where(
            outbox.c.created_at >= start,
            outbox.c.created_at < end,
            sa.or_(outbox.c.status == SendStatus.FAILED, outbox.c.delivery == "failed"),
            sa.not_(sa.func.coalesce(outbox.c.error, "").like("skipped:%")),
        )
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _count(values) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _p90(values: List[float]) -> float:
    if len(values) == 1:
        return values[0]
    rank = 0.9 * (len(values) - 1)
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)
