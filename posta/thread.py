"""A conversation as people read it: who said what, when, from Rasa's events."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from posta import texts
from posta.summary import EXTERNAL_PREFIX


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
