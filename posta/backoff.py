"""Growing pauses between tries: doubling from `first`, never more than `most` apart."""

from __future__ import annotations

import itertools
from typing import Iterator


def pause(attempt: int, first: float, most: float) -> float:
    """The pause after try number `attempt` (counted from 0)."""
    return min(most, first * 2**attempt)


def pauses(first: float, most: float) -> Iterator[float]:
    """Every pause in turn, for a loop that keeps trying."""
    return (pause(n, first, most) for n in itertools.count())
