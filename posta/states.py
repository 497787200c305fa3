"""Every state and kind Posta stores, by name. They are strings in the database and in JSON
(a member compares equal to its value), so the schema and old rows need no conversion."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """`enum.StrEnum` of Python 3.11, for 3.10: `str(member)` and f-strings give the value."""

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


class CaseStatus(StrEnum):
    WAITING = "waiting"  # in a team's queue, nobody chosen yet
    ASSIGNED = "assigned"  # routed to an agent who has not taken it yet
    ACTIVE = "active"  # a person owns the chat; the bot is paused
    CLOSED = "closed"


OPEN_STATUSES = (CaseStatus.WAITING, CaseStatus.ASSIGNED, CaseStatus.ACTIVE)


class Reason(StrEnum):
    """Why a case was opened."""

    REQUESTED = "requested"  # the customer asked for a person
    SENSITIVE = "sensitive"  # a complaint, a refund, a health worry...
    UNSURE = "unsure"  # the bot could not tell what was asked
    AGENT_TAKEOVER = "agent_takeover"  # a person took the chat without the bot asking


class CaseEventKind(StrEnum):
    CREATED = "created"
    ROUTED = "routed"
    TAKEN = "taken"
    PASSED = "passed"
    TRANSFERRED = "transferred"
    ESCALATED = "escalated"
    NOTE = "note"
    HANDED_BACK = "handed_back"
    SEND_FAILED = "send_failed"  # a message about the case could not be delivered
    QUEUE_TOLD = "queue_told"  # the customer was told their place in the queue (detail: the place)
    REVIEWED = "reviewed"  # an admin chose the case's lesson on the review page (posta.review)


class Purpose(StrEnum):
    """What an outbox row is."""

    REPLY = "reply"  # the bot to a customer
    RELAY = "relay"  # a person to a customer
    NOTIFY = "notify"  # a case notification to an agent
    INFO = "info"  # anything else the desk tells an agent
    RECEIPT = "receipt"  # a customer's message marked read (with the typing indicator or not)


TO_AGENTS = (Purpose.NOTIFY, Purpose.INFO)


class SendStatus(StrEnum):
    """An outbox row's progress."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class InboundKind(StrEnum):
    """What a customer's (or an agent's) WhatsApp message is, once parsed."""

    TEXT = "text"
    CHOICE = "choice"  # a tap on a button or list row
    MEDIA = "media"
    REACTION = "reaction"
    REVISION = "revision"  # an edit or a deletion
    SYSTEM = "system"  # the customer changed number, and the like
