"""What Posta reads of a business's own Rasa files (its domain and rules), for the checks
of `make validate` and the stories of `make review`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml


def read(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def names(items: Any) -> List[str]:
    """Intent (or slot, response) names from a domain list whose items may be mappings."""
    return [next(iter(item)) if isinstance(item, dict) else str(item) for item in items or []]


def intents(business: Path) -> List[str]:
    return names(read(business / "domain.yml").get("intents"))


def answers(business: Path) -> Dict[str, Tuple[str, ...]]:
    """What the bot does for an intent whatever came before: the actions of each rule that
    is one intent followed by actions only (no condition, no form)."""
    found: Dict[str, Tuple[str, ...]] = {}
    for path in sorted((business / "data").rglob("*.yml")):
        for rule in read(path).get("rules") or []:
            steps = [next(iter(step.items())) for step in rule.get("steps") or [] if step]
            if rule.get("condition") or len(steps) < 2 or steps[0][0] != "intent":
                continue
            if all(kind == "action" for kind, _ in steps[1:]):
                found.setdefault(steps[0][1], tuple(name for _, name in steps[1:]))
    return found
