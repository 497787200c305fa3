"""The case summary an agent reads on their phone before answering.

Built from the conversation's events (Rasa's JSON event format), never from slots someone
had to remember to fill: who the customer is, why the bot stepped aside, what they wrote
(every message, verbatim, in order), what the bot already answered, and the facts worth
having at hand. Rendered in the agent's language, short enough to read in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence

from zoneinfo import ZoneInfo

from posta import facts as facts_module
from posta import rasa_events, texts, topics


@dataclass
class CustomerMessage:
    text: str
    at: Optional[str] = None  # ISO 8601, UTC
    media: Optional[Dict[str, Any]] = None  # type, id, caption, mime_type


@dataclass
class CaseSummary:
    conversation_id: str
    reason: str
    topic: str
    language: str
    customer_name: Optional[str] = None
    urgent: bool = False
    after_hours: bool = False
    started_at: Optional[str] = None
    messages: List[CustomerMessage] = field(default_factory=list)
    answered: List[str] = field(default_factory=list)  # topics the bot answered itself
    facts: List[Dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "CaseSummary":
        data = dict(data)
        data["messages"] = [CustomerMessage(**m) for m in data.get("messages", [])]
        return cls(**data)

    @property
    def request_known(self) -> bool:
        """Whether the customer already said what they need (beyond asking for a person)."""
        return self.topic != "general" or any(m.media for m in self.messages)

    def render(self, lang: str, case_id: Optional[int] = None, tz: Optional[ZoneInfo] = None) -> str:
        """The text an agent reads: header lines, then the customer's words."""
        say = lambda key: texts.label(key, lang)  # noqa: E731
        header = [say("urgent")] if self.urgent else []
        title = f"{say('case')} #{case_id}" if case_id is not None else say("case")
        header.append(f"{title} · {say('reason_' + self.reason)} · {texts.topic_name(self.topic, lang)}")
        lines = [("🔴 " if self.urgent else "") + " · ".join(header)]
        who = self.customer_name or "?"
        lines.append(f"{say('customer')}: {who} ({self.conversation_id}) · {say('lang_' + self.language)}")
        if self.started_at:
            since = _local_clock(self.started_at, tz)
            lines.append(f"{say('since')}: {since}" + (f" · {say('after_hours')}" if self.after_hours else ""))
        if self.facts:
            shown = ", ".join(
                f"{texts.fact_name(f['kind'], lang)} {f['text' if f['kind'] not in facts_module.CORE_KINDS else 'value']}"
                for f in self.facts
            )
            lines.append(f"{say('facts')}: {shown}")
        lines.append(f"{say('messages')}:")
        for number, message in enumerate(self.messages, start=1):
            lines.append(f"{number}. {_message_text(message, lang)}")
        answered = ", ".join(texts.topic_name(t, lang) for t in self.answered) or say("nothing")
        lines.append(f"{say('bot_answered')}: {answered}")
        return "\n".join(lines)


def build(
    events: Sequence[Dict[str, Any]],
    *,
    conversation_id: str,
    reason: str,
    topic: str,
    language: str,
    customer_name: Optional[str] = None,
    after_hours: bool = False,
) -> CaseSummary:
    """A summary of the current stretch of conversation: since the session started or the
    last case was handed back, whichever is later."""
    window = current_window(events)
    messages, answered, found = [], [], []
    pending_topic = None
    business = topics.current()
    for event in window:
        if rasa_events.is_customer_message(event):
            message = _customer_message(event)
            messages.append(message)
            found.extend(facts_module.extract(message.text))
            customer_name = customer_name or rasa_events.metadata(event).get("customer_name") or None
            pending_topic = business.topic_of(rasa_events.intent(event))
        elif event.get("event") == "bot" and pending_topic and pending_topic not in business.urgent_topics:
            if pending_topic not in answered and rasa_events.is_answer(event):
                answered.append(pending_topic)
            pending_topic = None
    started = next((e for e in window if e.get("event") == "user"), None)
    return CaseSummary(
        conversation_id=conversation_id,
        reason=reason,
        topic=topic,
        language=language,
        customer_name=customer_name,
        urgent=topic in business.urgent_topics,
        after_hours=after_hours,
        started_at=rasa_events.iso_time(started) if started else None,
        messages=messages,
        answered=answered,
        facts=[f.as_dict() for f in facts_module.unique(found)],
    )


def current_window(events: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Events after the latest session start or handback."""
    start = 0
    for index, event in enumerate(events):
        if rasa_events.is_new_session(event) or rasa_events.is_handback(event):
            start = index + 1
    return list(events[start:])


def latest_topic(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The topic of the most recent customer message that had one."""
    topic, business = None, topics.current()
    for event in current_window(list(events)):
        if event.get("event") == "user":
            topic = business.topic_of(rasa_events.intent(event)) or topic
    return topic


def _customer_message(event: Dict[str, Any]) -> CustomerMessage:
    return CustomerMessage(
        text=rasa_events.customer_text(event),
        at=rasa_events.iso_time(event),
        media=rasa_events.metadata(event).get("media"),
    )


def _message_text(message: CustomerMessage, lang: str) -> str:
    return texts.media_placeholder(message.media, lang, with_id=True) if message.media else message.text


def _local_clock(iso: str, tz: Optional[ZoneInfo]) -> str:
    moment = datetime.fromisoformat(iso)
    if tz is not None:
        moment = moment.astimezone(tz)
    return moment.strftime("%d/%m %H:%M")
