"""The case summary an agent reads on their phone before answering.

Built from the conversation's events (Rasa's JSON event format), never from slots someone
had to remember to fill: who the customer is, why the bot stepped aside, what they wrote
(every message, verbatim, in order), what the bot already answered, and the facts worth
having at hand. Rendered in the agent's language, short enough to read in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence
from zoneinfo import ZoneInfo

from posta import facts as facts_module
from posta import texts
from posta.topics import INTENT_TOPICS, URGENT_TOPICS

EXTERNAL_PREFIX = "EXTERNAL: "
HANDBACK_ACTION = "action_handback"
# Marks a session the tracker store started only to keep long conversations fast
# (channels.tracker_store); it is not a new conversation.
ROLLOVER = "posta_rollover"


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
            shown = ", ".join(f"{say('fact_' + f['kind'])} {f['text' if f['kind'] == 'product' else 'value']}"
                              for f in self.facts)
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
    for event in window:
        kind = event.get("event")
        if kind == "user" and not _is_external(event):
            message = _customer_message(event)
            messages.append(message)
            found.extend(facts_module.extract(message.text))
            customer_name = customer_name or _name_from_metadata(event)
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            pending_topic = INTENT_TOPICS.get(intent)
        elif kind == "bot" and pending_topic and pending_topic not in URGENT_TOPICS:
            if pending_topic not in answered and _is_faq_answer(event):
                answered.append(pending_topic)
            pending_topic = None
    started = next((e.get("timestamp") for e in window if e.get("event") == "user"), None)
    return CaseSummary(
        conversation_id=conversation_id,
        reason=reason,
        topic=topic,
        language=language,
        customer_name=customer_name,
        urgent=topic in URGENT_TOPICS,
        after_hours=after_hours,
        started_at=_iso(started),
        messages=messages,
        answered=answered,
        facts=[f.as_dict() for f in facts_module.unique(found)],
    )


def current_window(events: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Events after the latest session start or handback."""
    start = 0
    for index, event in enumerate(events):
        kind = event.get("event")
        new_session = kind == "session_started" and not (event.get("metadata") or {}).get(ROLLOVER)
        if new_session or (kind == "action" and event.get("name") == HANDBACK_ACTION):
            start = index + 1
    return list(events[start:])


def latest_topic(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The topic of the most recent customer message that had one."""
    topic = None
    for event in current_window(list(events)):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            topic = INTENT_TOPICS.get(intent, topic)
    return topic


def _is_external(event: Dict[str, Any]) -> bool:
    return bool((event.get("metadata") or {}).get("is_external")) or str(
        event.get("text") or ""
    ).startswith(EXTERNAL_PREFIX)


def _is_faq_answer(event: Dict[str, Any]) -> bool:
    action = (event.get("metadata") or {}).get("utter_action") or ""
    return not action.startswith(("utter_handoff", "utter_ask_", "utter_after_hours"))


def _customer_message(event: Dict[str, Any]) -> CustomerMessage:
    metadata = event.get("metadata") or {}
    text = event.get("text") or ""
    media = metadata.get("media")
    if text.startswith("/"):  # a button payload: show what it meant, not its syntax
        text = text[1:].split("{", 1)[0].replace("_", " ")
    return CustomerMessage(text=text, at=_iso(event.get("timestamp")), media=media)


def _name_from_metadata(event: Dict[str, Any]) -> Optional[str]:
    metadata = event.get("metadata") or {}
    return metadata.get("customer_name") or None


def _message_text(message: CustomerMessage, lang: str) -> str:
    if not message.media:
        return message.text
    media = message.media
    parts = [f"[{texts.label('media', lang)}: {media.get('type', '?')}"]
    if media.get("id"):
        parts.append(f" id {media['id']}")
    parts.append("]")
    caption = media.get("caption") or ""
    return "".join(parts) + (f" {caption}" if caption else "")


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat(timespec="seconds")


def _local_clock(iso: str, tz: Optional[ZoneInfo]) -> str:
    moment = datetime.fromisoformat(iso)
    if tz is not None:
        moment = moment.astimezone(tz)
    return moment.strftime("%d/%m %H:%M")
