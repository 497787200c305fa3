"""Business hours: when the team is there, and when it is back.

A schedule is a list of opening ranges per weekday in the business's time zone. A range
whose end is not after its start runs past midnight ("20:00-02:00"). A holiday closes the
ranges that *start* on that date; a night shift that began the evening before still ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, FrozenSet, Iterator, Optional, Tuple

from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Range = Tuple[time, time]


@dataclass(frozen=True)
class Schedule:
    timezone: ZoneInfo
    weekly: Tuple[Tuple[Range, ...], ...]  # indexed by date.weekday()
    holidays: FrozenSet[date] = frozenset()

    def _shifts_starting_on(self, day: date) -> Iterator[Tuple[datetime, datetime]]:
        if day in self.holidays:
            return
        for start, end in self.weekly[day.weekday()]:
            end_day = day if end > start else day + timedelta(days=1)
            yield (
                datetime.combine(day, start, tzinfo=self.timezone),
                datetime.combine(end_day, end, tzinfo=self.timezone),
            )

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.timezone)
        for day in (local.date() - timedelta(days=1), local.date()):
            if any(start <= local < end for start, end in self._shifts_starting_on(day)):
                return True
        return False

    def next_opening(self, at: datetime, horizon_days: int = 31) -> Optional[datetime]:
        """The start of the first shift after `at` (local time), or None if none is near."""
        local = at.astimezone(self.timezone)
        for offset in range(horizon_days + 1):
            for start, _ in self._shifts_starting_on(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None

    def weekly_table(self) -> Dict[str, Tuple[Range, ...]]:
        return dict(zip(WEEKDAYS, self.weekly))


def business_now(timezone: ZoneInfo) -> datetime:
    """Now in the business's time zone; `POSTA_NOW` (ISO 8601, local if naive) overrides it.

    Only business-hours decisions use this clock, so tests and demos can be after hours
    while timestamps stay real.
    """
    override = os.environ.get("POSTA_NOW", "").strip()
    if not override:
        return datetime.now(timezone)
    moment = datetime.fromisoformat(override)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone)
    return moment.astimezone(timezone)
