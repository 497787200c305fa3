"""Media in a conversation: what WhatsApp accepts, and where Posta keeps it.

A customer's photo or voice note is downloaded while Meta's link is valid (minutes) and
kept in `posta_media`, tied to the conversation; relaying it to an agent, or an agent's
document to the customer, sends the kept bytes (uploaded once to the business number).
What does not fit WhatsApp's documented limits is refused with a reason, never dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import sqlalchemy as sa

from posta.db import connect, insert, utcnow
from posta.schema import media

MB = 1024 * 1024
KB = 1024
IN, OUT = "in", "out"  # from the customer, to the customer


@dataclass(frozen=True)
class Download:
    """Bytes fetched from the Graph API for a message's media id."""

    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Limit:
    most: int  # bytes
    types: tuple  # accepted MIME types


# The Cloud API's "Supported media types" (voice notes are audio/ogg with the opus codec).
LIMITS = {
    "image": Limit(5 * MB, ("image/jpeg", "image/png")),
    "audio": Limit(16 * MB, ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")),
    "video": Limit(16 * MB, ("video/mp4", "video/3gpp")),
    "sticker": Limit(500 * KB, ("image/webp",)),  # 100 KB if not animated; Meta checks that
    "document": Limit(
        100 * MB,
        (
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
    ),
}
KINDS = tuple(LIMITS) + ("voice",)
CAPTIONED = ("image", "video", "document")  # the kinds a message can caption


def kind_for(mime_type: str) -> str:
    """The kind of message a file is sent as, by its MIME type (anything else: a document)."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return next((kind for kind, limit in LIMITS.items() if base in limit.types), "document")


def wire_kind(kind: str) -> str:
    """The Cloud API's type for one of Posta's kinds (a voice note is audio)."""
    return "audio" if kind == "voice" else kind


def problem(kind: str, mime_type: str, size: int) -> Optional[dict]:
    """Why WhatsApp would refuse these bytes, as values for a message; None if they fit."""
    limit = LIMITS.get(wire_kind(kind))
    if limit is None:
        return {"why": "kind", "kind": kind}
    base_type = (mime_type or "").split(";")[0].strip().lower()
    if base_type not in limit.types:
        return {"why": "type", "kind": kind, "mime_type": base_type, "allowed": ", ".join(limit.types)}
    if size > limit.most:
        return {"why": "size", "kind": kind, "size_mb": _mb(size), "most_mb": _mb(limit.most)}
    return None


def forwardable(sent: dict) -> bool:
    """Whether kept media (a message's `media`) fits what WhatsApp sends on: what does not
    stays in the panel."""
    if not sent.get("posta_media"):
        return True  # nothing kept: a location, contact cards, a placeholder
    return problem(sent.get("type", ""), sent.get("mime_type", ""), int(sent.get("size") or 0)) is None


def _mb(size: int) -> str:
    return f"{size / MB:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Stored:
    id: int
    conversation_id: str
    direction: str
    kind: str
    mime_type: str
    filename: Optional[str]
    caption: Optional[str]
    size: int
    sha256: str
    uploaded_id: Optional[str] = None
    uploaded_at: Optional[datetime] = None
    content: Optional[bytes] = None  # read only when asked for

    def as_dict(self) -> dict:
        """What a message's metadata and the case summary keep of it (no bytes)."""
        return {
            "posta_media": self.id,
            "type": self.kind,
            "mime_type": self.mime_type,
            **({"filename": self.filename} if self.filename else {}),
            **({"caption": self.caption} if self.caption else {}),
            "size": self.size,
        }


class MediaStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    def save(
        self,
        conversation_id: str,
        direction: str,
        kind: str,
        mime_type: str,
        content: bytes,
        *,
        filename: Optional[str] = None,
        caption: Optional[str] = None,
        source_id: Optional[str] = None,
    ) -> Stored:
        """Keeps the bytes; the same Graph media id saved twice (a message handled again, on
        this replica or another) is kept once."""
        row = dict(
            conversation_id=conversation_id,
            direction=direction,
            kind=kind,
            mime_type=mime_type,
            filename=filename,
            caption=caption,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            source_id=source_id,
            created_at=utcnow(),
        )
        statement = insert(self.engine, media).values(**row).on_conflict_do_nothing(index_elements=["source_id"])
        with self.engine.begin() as conn:
            result = conn.execute(statement)
            row_id = result.inserted_primary_key[0] if result.rowcount else None
        return self.get(row_id) if row_id is not None else self.by_source(source_id)

    def get(self, media_id: int, with_content: bool = False) -> Optional[Stored]:
        return self._one(media.c.id == media_id, with_content)

    def by_source(self, source_id: str) -> Optional[Stored]:
        return self._one(media.c.source_id == source_id, False)

    def of_conversation(self, conversation_id: str) -> List[Stored]:
        query = sa.select(*_META).where(media.c.conversation_id == conversation_id).order_by(media.c.id)
        with self.engine.connect() as conn:
            return [Stored(**row._mapping) for row in conn.execute(query)]

    def uploaded(self, media_id: int, uploaded_id: str) -> None:
        """The Graph media id the bytes can be sent by (Meta keeps an upload for 30 days)."""
        with self.engine.begin() as conn:
            conn.execute(
                media.update().where(media.c.id == media_id).values(uploaded_id=uploaded_id, uploaded_at=utcnow())
            )

    def _one(self, where, with_content: bool) -> Optional[Stored]:
        columns = _META + ([media.c.content] if with_content else [])
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*columns).where(where)).first()
        return Stored(**row._mapping) if row else None


_META = [
    media.c.id,
    media.c.conversation_id,
    media.c.direction,
    media.c.kind,
    media.c.mime_type,
    media.c.filename,
    media.c.caption,
    media.c.size,
    media.c.sha256,
    media.c.uploaded_id,
    media.c.uploaded_at,
]
