"""What arrives on the WhatsApp Cloud API webhook, as plain values.

Meta posts `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": ...,
"value": {...}}]}]}`; one POST can carry several entries, changes, messages and statuses.
`parse` flattens them, in order, into:

- `Inbound`: a message a phone sent to the business number (customer or agent);
- `Status`: sent / delivered / read / played / failed for a message the business sent;
- `Echo`: a message the business typed in the WhatsApp Business app (coexistence),
  which means a person is talking to that customer.

How each message type is treated (`Inbound.kind`):

| WhatsApp type | kind | why |
|---|---|---|
| text (also replies, forwards, ad referrals) | `text` | the bot reads it |
| interactive button_reply / list_reply, template `button` | `choice` | the id (or payload) is what our buttons carry |
| image, video, document, audio (voice notes), sticker | `media` | the bot cannot read it: hand off as `unsure` |
| location, contacts, order, unsupported, interactive with no reply | `media` | same: a person must look |
| reaction | `reaction` | not a message to answer; relayed to a person who owns the chat |
| revoke (deleted), edit | `revision` | the original was already handled; relayed to a person who owns the chat |
| system (number or identity change) | `system` | logged only |
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set, Union

from posta import web
from posta.states import InboundKind

MEDIA_TYPES = ("image", "video", "document", "audio", "sticker")


@dataclass(frozen=True)
class Inbound:
    id: str
    sender: str  # the phone (wa_id) that wrote
    kind: str  # text, choice, media, reaction, revision, system
    text: str = ""  # for text: the body; for choice: the button/row id; else a short description
    name: Optional[str] = None  # the sender's WhatsApp profile name
    title: Optional[str] = None  # the title of the chosen button or row
    media: Optional[Dict[str, Any]] = None  # type, id, caption, mime_type, filename, ...
    context_id: Optional[str] = None  # the message this one replies to
    timestamp: Optional[datetime] = None


@dataclass(frozen=True)
class Status:
    message_id: str
    recipient: str
    status: str  # sent, delivered, read, played, failed
    timestamp: Optional[datetime] = None
    errors: List[Dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Echo:
    id: str
    customer: str  # who the business wrote to
    kind: str  # text, media, revision
    text: str = ""
    timestamp: Optional[datetime] = None


Update = Union[Inbound, Status, Echo]


def to_record(update: Update) -> Dict[str, Any]:
    """A JSON-ready form of a message or echo, for the inbox."""
    record = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(update).items()}
    record["update"] = type(update).__name__
    return record


def from_record(record: Dict[str, Any]) -> Update:
    values = dict(record)
    cls = {"Inbound": Inbound, "Echo": Echo, "Status": Status}[values.pop("update")]
    if values.get("timestamp"):
        values["timestamp"] = datetime.fromisoformat(values["timestamp"])
    return cls(**values)


class PayloadError(ValueError):
    """The body is JSON but not a webhook notification."""


def signature_is_valid(body: bytes, header: Optional[str], app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time."""
    if not header or not header.startswith("sha256=") or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return web.same_secret(header[len("sha256=") :].strip().lower(), expected)


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body` (used by the simulator and tests)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def parse(payload: Any, number_id: Optional[str] = None) -> List[Update]:
    """Every update in a webhook body, in order. Parts it does not know are skipped; with
    `number_id`, so are those addressed to another business number of the same app."""
    updates: List[Update] = []
    for value in _values(payload):
        if number_id is not None and not (number_id and _number(value) == number_id):
            continue  # an unset number_id matches nothing
        names = {
            c.get("wa_id"): (c.get("profile") or {}).get("name")
            for c in _list(value, "contacts")
            if isinstance(c, dict)
        }
        for message in _list(value, "messages"):
            inbound = _inbound(message, names)
            if inbound:
                updates.append(inbound)
        for status in _list(value, "statuses"):
            if isinstance(status, dict) and status.get("id"):
                updates.append(
                    Status(
                        message_id=str(status["id"]),
                        recipient=str(status.get("recipient_id", "")),
                        status=str(status.get("status", "")),
                        timestamp=_time(status),
                        errors=list(status.get("errors") or []),
                    )
                )
        for echo in _list(value, "message_echoes"):
            parsed = _echo(echo)
            if parsed:
                updates.append(parsed)
    return updates


def numbers(payload: Any) -> Set[str]:
    """The business numbers (phone_number_id) a webhook body is addressed to."""
    return {_number(value) for value in _values(payload)}


def _values(payload: Any) -> List[dict]:
    """The `value` of every change in the body."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise PayloadError("expected an object with an 'entry' list")
    return [
        change["value"]
        for entry in payload["entry"]
        for change in _list(entry, "changes")
        if isinstance(change, dict) and isinstance(change.get("value"), dict)
    ]


def _number(value: dict) -> str:
    metadata = value.get("metadata")
    return str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else ""


def _list(container: Any, key: str) -> list:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def _time(item: dict) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(int(item.get("timestamp")), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _inbound(message: Any, names: Dict[str, Optional[str]]) -> Optional[Inbound]:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        return None
    sender = str(message["from"])
    common = dict(
        id=str(message["id"]),
        sender=sender,
        name=names.get(sender),
        timestamp=_time(message),
        context_id=(message.get("context") or {}).get("id"),
    )
    kind, details = _content(message)
    return Inbound(**{**common, "kind": kind, **details})


def _content(message: dict) -> tuple:
    """(kind, fields) for one message, by its WhatsApp type."""
    type_ = message.get("type")
    body = message.get(type_) if isinstance(message.get(type_), dict) else {}
    if type_ == "text":
        return InboundKind.TEXT, {"text": str(body.get("body", ""))}
    if type_ == "interactive":
        reply = body.get("button_reply") or body.get("list_reply")
        if reply:
            return InboundKind.CHOICE, {"text": str(reply.get("id", "")), "title": reply.get("title")}
        return InboundKind.MEDIA, {"media": {"type": "unsupported"}}
    if type_ == "button":
        return InboundKind.CHOICE, {
            "text": str(body.get("payload") or body.get("text") or ""),
            "title": body.get("text"),
        }
    if type_ in MEDIA_TYPES:
        media = {"type": "voice" if type_ == "audio" and body.get("voice") else type_}
        media.update({k: body[k] for k in ("id", "caption", "mime_type", "filename") if body.get(k)})
        return InboundKind.MEDIA, {"media": media, "text": str(body.get("caption") or "")}
    if type_ == "location":
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        coords = f"{body.get('latitude')},{body.get('longitude')}"
        details = {k: body[k] for k in ("latitude", "longitude", "name", "address") if body.get(k) is not None}
        return InboundKind.MEDIA, {"media": {"type": "location", "caption": place or coords, **details}}
    if type_ == "contacts":
        cards = [c for c in _list(message, "contacts") if isinstance(c, dict)]
        people = [((c.get("name") or {}).get("formatted_name") or "?") for c in cards]
        return InboundKind.MEDIA, {"media": {"type": "contacts", "caption": ", ".join(people), "contacts": cards}}
    if type_ == "order":
        items = [f"{i.get('quantity')} x {i.get('product_retailer_id')}" for i in _list(body, "product_items")]
        return InboundKind.MEDIA, {"media": {"type": "order", "caption": "; ".join(items)}}
    if type_ == "reaction":
        return InboundKind.REACTION, {"text": str(body.get("emoji") or ""), "context_id": body.get("message_id")}
    if type_ in ("revoke", "edit"):
        edited = ((body.get("message") or {}).get("text") or {}).get("body", "") if type_ == "edit" else ""
        return InboundKind.REVISION, {"text": edited, "media": {"type": type_, "id": body.get("original_message_id")}}
    if type_ == "system":
        return InboundKind.SYSTEM, {"text": str((message.get("system") or {}).get("body", ""))}
    return InboundKind.MEDIA, {"media": {"type": str(type_ or "unsupported")}}


def _echo(echo: Any) -> Optional[Echo]:
    if not isinstance(echo, dict) or not echo.get("id") or not echo.get("to"):
        return None
    type_ = echo.get("type")
    if type_ == "text":
        kind, text = InboundKind.TEXT, str((echo.get("text") or {}).get("body", ""))
    elif type_ in ("revoke", "edit"):
        kind, text = InboundKind.REVISION, ""
    else:
        kind, text = InboundKind.MEDIA, f"[{type_}]"
    return Echo(id=str(echo["id"]), customer=str(echo["to"]), kind=kind, text=text, timestamp=_time(echo))
