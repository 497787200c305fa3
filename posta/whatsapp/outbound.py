"""Graph API message bodies, always within WhatsApp's documented limits.

Text over 4096 characters is split at paragraph, sentence or word boundaries, never cut.
Up to three short choices become reply buttons; more choices, or titles over 20
characters, become a list (rows of at most 24 characters, the full title in the row's
description), and more than ten rows become several lists.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
BUTTONS_LIMIT = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
LIST_ROWS_LIMIT = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20
CAPTION_LIMIT = 1024

Choice = Tuple[str, str]  # (id sent back to us, title shown)
CHOOSE = {"es": "Elegí una opción", "en": "Choose an option"}
OPTIONS = {"es": "Opciones", "en": "Options"}


def split_text(text: str, limit: int = TEXT_LIMIT) -> List[str]:
    """Pieces of at most `limit` characters, broken where a reader would break them."""
    text = text.strip()
    pieces = []
    while len(text) > limit:
        cut = _break_point(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _break_point(text: str, limit: int) -> int:
    """Where the longest piece up to `limit` ends: after a paragraph, line, sentence or word
    (structure only when it keeps at least half the limit), else at the limit itself."""
    for separator, floor in (
        ("\n\n", limit // 2),
        ("\n", limit // 2),
        (". ", limit // 2),
        ("? ", limit // 2),
        ("! ", limit // 2),
        (" ", 0),
    ):
        at = text.rfind(separator, 0, limit)
        if at > floor:
            return at + len(separator.rstrip())
    return limit


def text(to: str, body: str) -> List[Dict[str, Any]]:
    return [_envelope(to, "text", {"body": piece, "preview_url": _has_link(piece)}) for piece in split_text(body)]


def choices(to: str, body: str, options: Sequence[Choice], lang: str = "es") -> List[Dict[str, Any]]:
    """Reply buttons when they fit, lists otherwise; a body too long for an interactive
    message goes first as plain text."""
    messages: List[Dict[str, Any]] = []
    if len(body) > INTERACTIVE_BODY_LIMIT:  # the text goes on its own; the choices get a short prompt
        messages += text(to, body)
        body = ""
    body = body or CHOOSE[lang]
    options = [(str(i)[:ROW_ID_LIMIT], str(t)) for i, t in options]
    if len(options) <= BUTTONS_LIMIT and all(len(t) <= BUTTON_TITLE_LIMIT for _, t in options):
        buttons = [{"type": "reply", "reply": {"id": i[:BUTTON_ID_LIMIT], "title": t}} for i, t in options]
        messages.append(
            _envelope(to, "interactive", {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}})
        )
        return messages
    for start in range(0, len(options), LIST_ROWS_LIMIT):
        rows = [_row(i, t) for i, t in options[start : start + LIST_ROWS_LIMIT]]
        messages.append(
            _envelope(
                to,
                "interactive",
                {
                    "type": "list",
                    "body": {"text": body if start == 0 else CHOOSE[lang]},
                    "action": {"button": OPTIONS[lang], "sections": [{"title": OPTIONS[lang], "rows": rows}]},
                },
            )
        )
    return messages


def image(to: str, link: str, caption: Optional[str] = None) -> List[Dict[str, Any]]:
    media: Dict[str, Any] = {"link": link}
    extra: List[Dict[str, Any]] = []
    if caption:
        first, *rest = split_text(caption, CAPTION_LIMIT)
        media["caption"] = first
        extra = [m for piece in rest for m in text(to, piece)]
    return [_envelope(to, "image", media)] + extra


def kept_media(to: str, stored: Mapping[str, Any], caption: Optional[str] = None) -> List[Dict[str, Any]]:
    """Kept media (`posta.media.Stored.as_dict()`) as a message: the sender uploads the bytes
    and sends them by the upload's id. A kind that takes no caption (a voice note, a
    sticker) gets its caption as a text message first."""
    kind = "audio" if stored["type"] == "voice" else stored["type"]
    content: Dict[str, Any] = {"posta_media": stored["posta_media"]}
    before: List[Dict[str, Any]] = []
    if caption and kind in ("image", "video", "document"):
        content["caption"] = _shorten(caption, CAPTION_LIMIT)
    elif caption:
        before = text(to, caption)
    if kind == "document" and stored.get("filename"):
        content["filename"] = stored["filename"]
    return before + [_envelope(to, kind, content)]


def quoting(bodies: List[Dict[str, Any]], message_id: Optional[str]) -> List[Dict[str, Any]]:
    """`bodies` with the first quoting `message_id` (a message of the same chat), if any."""
    if message_id and bodies:
        bodies[0] = {**bodies[0], "context": {"message_id": message_id}}
    return bodies


def read(message_id: str, typing: bool = False) -> Dict[str, Any]:
    """Marks a received message (and the ones before it) read, with the typing indicator
    for about 25 seconds if `typing`. Not a message: it has no recipient of its own."""
    body: Dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def reaction(to: str, message_id: str, emoji: str) -> List[Dict[str, Any]]:
    """An emoji on a message of the chat ("" takes a reaction back)."""
    return [_envelope(to, "reaction", {"message_id": message_id, "emoji": emoji})]


def forward(to: str, media: Mapping[str, Any], caption: str) -> List[Dict[str, Any]]:
    """What a person receives of a message that carried media: the media itself when Posta
    kept it (a photo, a voice note, a document), the location or the contact cards, with
    `caption` (who sent it, what they wrote); otherwise `caption` alone."""
    if media.get("posta_media"):
        return kept_media(to, media, caption)
    if media.get("type") == "location" and media.get("latitude") is not None:
        return text(to, caption) + location(to, media)
    if media.get("type") == "contacts" and media.get("contacts"):
        return text(to, caption) + contacts(to, media["contacts"])
    return text(to, caption)


def location(to: str, place: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """A shared location, forwarded as a location."""
    content = {k: place[k] for k in ("latitude", "longitude", "name", "address") if place.get(k) is not None}
    return [_envelope(to, "location", content)]


def contacts(to: str, people: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Shared contact cards, forwarded as contact cards."""
    return [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "contacts",
            "contacts": list(people),
        }
    ]


def template(to: str, name: str, language: str, parameters: Sequence[str] = ()) -> Dict[str, Any]:
    body: Dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        body["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in parameters]}]
    return _envelope(to, "template", body)


def configured_template(
    templates: Mapping[str, Mapping[str, str]], use: str, to: str, lang: str, parameters: Sequence[str] = ()
) -> Optional[Dict[str, Any]]:
    """The approved template the business configured for `use` (business.yml's
    whatsapp.templates), addressed to `to`; None when it configured none."""
    chosen = templates.get(use)
    if not chosen:
        return None
    return template(to, chosen["name"], chosen.get("language", lang), parameters)


def from_bot(to: str, message: Dict[str, Any], lang: str = "es") -> List[Dict[str, Any]]:
    """A Rasa bot message (text, buttons, image, custom) as Graph API bodies."""
    custom = message.get("custom") or {}
    if isinstance(custom, dict) and isinstance(custom.get("whatsapp"), dict):
        return [{**custom["whatsapp"], "messaging_product": "whatsapp", "to": to}]
    messages: List[Dict[str, Any]] = []
    body = message.get("text") or ""
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if buttons:
        messages += choices(
            to, body, [(b.get("payload") or b.get("title"), b.get("title") or b.get("payload")) for b in buttons], lang
        )
    elif body:
        messages += text(to, body)
    if message.get("image"):
        messages += image(to, message["image"])
    if message.get("attachment"):
        messages += text(to, str(message["attachment"]))
    return messages


def choice_ids(body: Dict[str, Any]) -> List[str]:
    """The ids a reply to this message can carry: its reply buttons' or list rows'."""
    action = (body.get("interactive") or {}).get("action") or {} if body.get("type") == "interactive" else {}
    return [b["reply"]["id"] for b in action.get("buttons") or []] + [
        r["id"] for section in action.get("sections") or [] for r in section.get("rows") or []
    ]


def _row(id_: str, title: str) -> Dict[str, Any]:
    row = {"id": id_, "title": _shorten(title, ROW_TITLE_LIMIT)}
    if len(title) > ROW_TITLE_LIMIT:
        row["description"] = _shorten(title, ROW_DESCRIPTION_LIMIT)
    return row


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _has_link(body: str) -> bool:
    return bool(re.search(r"https?://", body))


def _envelope(to: str, type_: str, content: Dict[str, Any]) -> Dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": type_, type_: content}
