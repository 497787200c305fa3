"""Posta's tables as `metadata.create_all` made them before migrations existed.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

from posta.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posta_agent_state",
        sa.Column("agent", sa.String(length=255), nullable=False),
        sa.Column("active_case_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("agent"),
    )
    op.create_table(
        "posta_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("after_hours", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("customer_name", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=255), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=True),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posta_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posta_cases_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(
            "posta_one_open_case_per_conversation",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )

    op.create_table(
        "posta_contacts",
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.create_table(
        "posta_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("posta_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posta_inbox_sender"), ["sender"], unique=False)
        batch_op.create_index("posta_inbox_unprocessed", ["processed_at", "sender"], unique=False)

    op.create_table(
        "posta_job_runs",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "posta_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posta_login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posta_login_failures_key"), ["key"], unique=False)

    op.create_table(
        "posta_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fallback", sa.Text(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("wamid", sa.String(length=255), nullable=True),
        sa.Column("used_template", sa.Boolean(), nullable=False),
        sa.Column("delivery", sa.String(length=12), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("posta_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posta_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posta_outbox_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posta_outbox_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_posta_outbox_wamid"), ["wamid"], unique=False)
        batch_op.create_index("posta_outbox_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "posta_panel_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_table(
        "posta_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "posta_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["posta_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posta_case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posta_case_events_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("posta_case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posta_case_events_case_id"))

    op.drop_table("posta_case_events")
    op.drop_table("posta_settings")
    op.drop_table("posta_panel_sessions")
    with op.batch_alter_table("posta_outbox", schema=None) as batch_op:
        batch_op.drop_index("posta_outbox_due")
        batch_op.drop_index(batch_op.f("ix_posta_outbox_wamid"))
        batch_op.drop_index(batch_op.f("ix_posta_outbox_recipient"))
        batch_op.drop_index(batch_op.f("ix_posta_outbox_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_posta_outbox_case_id"))

    op.drop_table("posta_outbox")
    with op.batch_alter_table("posta_login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posta_login_failures_key"))

    op.drop_table("posta_login_failures")
    op.drop_table("posta_job_runs")
    with op.batch_alter_table("posta_inbox", schema=None) as batch_op:
        batch_op.drop_index("posta_inbox_unprocessed")
        batch_op.drop_index(batch_op.f("ix_posta_inbox_sender"))

    op.drop_table("posta_inbox")
    op.drop_table("posta_contacts")
    with op.batch_alter_table("posta_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "posta_one_open_case_per_conversation",
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )
        batch_op.drop_index(batch_op.f("ix_posta_cases_conversation_id"))

    op.drop_table("posta_cases")
    op.drop_table("posta_agent_state")
