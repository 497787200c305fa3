"""Who gets a new case: the team by topic, then the most available person on it.

An agent is available when they are on shift and under their open-case limit. Among
those, people who speak the customer's language come first, then the fewest open cases,
then whoever was assigned least recently (round-robin that survives restarts, because
it is read from the case table).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Collection, Dict, Optional

from posta.config import Agent, BusinessConfig

NEVER = datetime.min.replace(tzinfo=timezone.utc)


def choose_agent(
    config: BusinessConfig,
    team: str,
    language: str,
    now: datetime,
    load: Dict[str, int],
    last_assigned: Dict[str, datetime],
    exclude: Collection[str] = (),
) -> Optional[Agent]:
    available = [
        agent
        for agent in config.agents
        if team in agent.teams
        and agent.name not in exclude
        and agent.schedule.is_open(now)
        and load.get(agent.name, 0) < agent.max_open_cases
    ]
    if not available:
        return None
    return min(
        available,
        key=lambda agent: (
            language not in agent.languages,
            load.get(agent.name, 0),
            last_assigned.get(agent.name) or NEVER,
        ),
    )
