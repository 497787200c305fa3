"""posta_bot_ratings: "how did we do?" after a conversation the bot handled alone.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from posta.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posta_bot_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.Column("lesson_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_posta_bot_ratings_conversation_id"), "posta_bot_ratings", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_posta_bot_ratings_conversation_id"), table_name="posta_bot_ratings")
    op.drop_table("posta_bot_ratings")
