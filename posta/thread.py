"""A conversation as people read it: who said what, when, from Rasa's events (the whole
conversation, every session, read by `rasa_events.load`: summaries, takeovers and the panel
need all of it, not only the tail Rasa keeps in a tracker)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional

from posta import rasa_events, texts


@dataclass(frozen=True)
class Line:
    who: str  # customer, bot, agent
    text: str
    at: Optional[str]  # ISO 8601, UTC
    agent: Optional[str] = None  # the person's name, for agent lines
    media: Optional[Dict[str, Any]] = None  # kept media (posta.media.Stored.as_dict()), to show
    quote: Optional[str] = None  # the words of the message this one replies to

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def lines(
    events: Iterable[Dict[str, Any]], lang: str = "es", sent: Optional[Callable[[str], Optional[str]]] = None
) -> List[Line]:
    """Customer, bot and agent messages in order; media as placeholders; nothing internal.
    A reply carries the words it quotes: the customer's own message (an agent's reply to
    its copy), or what the business sent them, looked up by `sent` (WhatsApp id -> words)."""
    events = list(events)
    said = {
        str(rasa_events.metadata(e)["message_id"]): rasa_events.customer_text(e)
        for e in events
        if rasa_events.is_customer_message(e) and rasa_events.metadata(e).get("message_id")
    }
    result = []
    for event in events:
        replied_to = rasa_events.metadata(event).get("context_id") or rasa_events.metadata(event).get("quote")
        quote = (said.get(replied_to) or (sent(replied_to) if sent else None)) if replied_to else None
        kind, at = event.get("event"), rasa_events.iso_time(event)
        media = rasa_events.metadata(event).get("media")
        kept = media if media and media.get("posta_media") else None
        if rasa_events.is_customer_message(event):
            text = texts.media_placeholder(media, lang) or rasa_events.customer_text(event)
            result.append(Line("customer", text, at, media=kept, quote=quote))
        elif kind == "bot" and (event.get("text") or ""):
            agent = rasa_events.metadata(event).get("agent")
            result.append(Line("agent" if agent else "bot", event["text"], at, agent, kept, quote))
    return result
