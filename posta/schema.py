"""Every table Posta owns, in one place. Rasa's tracker store (`events`) lives in the same
database; Posta's tables are prefixed `posta_`. Changes to them go through a migration
(`posta/migrations/`), never by hand."""

from __future__ import annotations

from datetime import timezone

import sqlalchemy as sa

from posta.states import CaseStatus, SendStatus

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


# Cases: one per handoff, open until a person hands the chat back.
cases = sa.Table(
    "posta_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),  # CaseStatus
    sa.Column("reason", sa.String(32), nullable=False),  # Reason
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("after_hours", sa.Boolean, nullable=False, default=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("customer_name", sa.String(255)),
    sa.Column("channel", sa.String(32)),  # where the customer writes: whatsapp, rest, ...
    sa.Column("team", sa.String(64)),
    sa.Column("agent", sa.String(255)),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("assigned_at", UTCDateTime),  # last routed (to an agent or a queue)
    sa.Column("taken_at", UTCDateTime),
    sa.Column("first_reply_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("closed_by", sa.String(255)),
    sa.Column("rating", sa.Integer),  # the customer's answer to "how did we do?": 1 bad, 2 okay, 3 good
    sa.Column("rated_at", UTCDateTime),
    # The judgment of the person who handled it: needed, bot (the bot could have answered:
    # judged_topic says with what), other (it was about something else).
    sa.Column("judgment", sa.String(16)),
    sa.Column("judged_topic", sa.String(64)),
    sa.Column("judged_by", sa.String(255)),
    sa.Column("judged_at", UTCDateTime),
)
sa.Index(
    "posta_one_open_case_per_conversation",
    cases.c.conversation_id,
    unique=True,
    sqlite_where=cases.c.status != CaseStatus.CLOSED.value,
    postgresql_where=cases.c.status != CaseStatus.CLOSED.value,
)

case_events = sa.Table(
    "posta_case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("posta_cases.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # CaseEventKind
    sa.Column("actor", sa.String(255)),
    sa.Column("detail", sa.Text),
)

# The case an agent's WhatsApp messages go to, while they own several.
agent_state = sa.Table(
    "posta_agent_state",
    metadata,
    sa.Column("agent", sa.String(255), primary_key=True),
    sa.Column("active_case_id", sa.Integer),
)

# WhatsApp: who wrote, and when (the 24-hour window).
contacts = sa.Table(
    "posta_contacts",
    metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("last_inbound_at", UTCDateTime),  # their last message to the business
)

# Every webhook update, stored before it is acknowledged; processed in order per sender.
inbox = sa.Table(
    "posta_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # arrival order
    sa.Column("message_id", sa.String(255), nullable=False, unique=True),
    sa.Column("sender", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16)),  # InboundKind, or "status"
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("claimed_by", sa.String(36)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("retry_at", UTCDateTime),  # after a failed try, not before this
    sa.Column("processed_at", UTCDateTime),
    sa.Column("error", sa.Text),
)
sa.Index("posta_inbox_unprocessed", inbox.c.processed_at, inbox.c.sender)

# Every message Posta sends, queued in the transaction that decided it.
outbox = sa.Table(
    "posta_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("recipient", sa.String(64), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("fallback", sa.Text),  # template body to send instead when the window is closed
    sa.Column("purpose", sa.String(16), nullable=False),  # Purpose
    sa.Column("conversation_id", sa.String(255), index=True),  # the customer conversation concerned
    sa.Column("case_id", sa.Integer, index=True),
    sa.Column("status", sa.String(12), nullable=False, default=SendStatus.PENDING.value),  # SendStatus
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(36)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("wamid", sa.String(255), index=True),
    sa.Column("used_template", sa.Boolean, nullable=False, default=False),
    sa.Column("delivery", sa.String(12)),  # latest webhook status: sent, delivered, read, failed
    sa.Column("error", sa.Text),
    # Written once: the same decision made twice (a message processed again after a crash)
    # cannot queue the same message twice.
    sa.Column("dedupe_key", sa.String(255), unique=True),
)
sa.Index("posta_outbox_due", outbox.c.status, outbox.c.next_attempt_at)

# Photos, voice notes, documents... of a conversation, either way, kept in the database so
# that every replica can read them, a backup holds them, and erasing the customer erases
# them in the same transaction (posta/privacy.py). Meta keeps media only for a while.
media = sa.Table(
    "posta_media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("direction", sa.String(8), nullable=False),  # in: from the customer; out: to them
    sa.Column("kind", sa.String(16), nullable=False),  # image, audio, voice, video, document, sticker
    sa.Column("mime_type", sa.String(127), nullable=False),
    sa.Column("filename", sa.String(255)),
    sa.Column("caption", sa.Text),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("source_id", sa.String(255), unique=True),  # the Graph media id it was downloaded from
    sa.Column("uploaded_id", sa.String(255)),  # the Graph media id to send it by
    sa.Column("uploaded_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# "How did we do?" after a conversation the bot handled alone; a low answer marks the bot's
# turns before it as a possible miss for the review (posta/review.py), where an admin's
# choice of lesson is kept on the row.
bot_ratings = sa.Table(
    "posta_bot_ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("asked_at", UTCDateTime, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("rating", sa.Integer),  # 1 bad, 2 okay, 3 good (posta.ratings)
    sa.Column("rated_at", UTCDateTime),
    sa.Column("lesson", sa.Text),  # JSON: the review page's choice
    sa.Column("lesson_by", sa.String(255)),
)

# The team panel.
sessions = sa.Table(
    "posta_panel_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)
settings = sa.Table(
    "posta_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
login_failures = sa.Table(
    "posta_login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(300), nullable=False, index=True),  # "name:<name>" or "address:<ip>"
    sa.Column("at", UTCDateTime, nullable=False),
)

# Scheduled jobs that must run once per key across replicas (the daily report, ...).
job_runs = sa.Table(
    "posta_job_runs",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("ran_at", UTCDateTime, nullable=False),
)
